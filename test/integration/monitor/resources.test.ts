// Resource rules end to end on the real bus: an injected metrics source and a manual clock drive the
// monitor; the alerts are read back from sentinel.alerts (contract shape checked) and the decisions
// from the run log. A single spike raises nothing; a sustained breach fires once; it repeats only
// after the interval; it clears only below the lower threshold; disk fires at once.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeAlertSender } from '../../../src/bus/alert-sender.js';
import { makeManualClock } from '../../../src/base/clock.js';
import { Redactor } from '../../../src/log/redactor.js';
import {
  defaultDiskPaths,
  type HostMetrics,
  makeHostMetricsSource,
  type ResourceMonitor,
  startResourceMonitor,
} from '../../../src/monitor/resources.js';
import { openRunLog, type RunLog } from '../../../src/runlog/index.js';
import { busClient, type BusClient, TEST_REDIS_URL } from '../../helpers/helm.js';
import { freshPrefix } from '../../helpers/queue-prefix.js';
import { readRunLogEntries } from '../../helpers/run-log.js';

const prefix = freshPrefix();
const clock = makeManualClock(new Date('2026-11-29T12:00:00.000Z'));
let redis: Redis;
let queue: Queue;
let bus: BusClient;
let runLog: RunLog;
let memoryDir: string;
let metrics: HostMetrics = { cpuPercent: 20, memoryPercent: 30, disks: [] };
let monitor: ResourceMonitor;

beforeAll(async () => {
  memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-res-'));
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue('sentinel.alerts', { connection: redis, prefix });
  bus = await busClient(prefix);
  runLog = await openRunLog({ dir: memoryDir, key: randomBytes(32), clock });
  const logger = pino({ level: 'silent' });
  monitor = startResourceMonitor({
    source: { sample: async () => metrics },
    clock,
    alerts: makeAlertSender({
      queue,
      clock,
      redactor: new Redactor(),
      logger,
      retention: { age: 3600, count: 100 },
    }),
    runLog,
    logger,
    host: 'box1',
    rules: { cpu: { threshold: 85, windowMs: 120_000, hysteresis: 5, repeatMs: 1_800_000 } },
    autoStart: false,
  });
});
afterAll(async () => {
  monitor?.close();
  await runLog?.close();
  await bus?.close();
  await queue?.close();
  redis?.disconnect();
});

/** One sample every 15 s of manual time. */
async function samples(seconds: number) {
  for (let t = 0; t < seconds; t += 15) {
    await monitor.sampleNow();
    clock.advance(15_000);
  }
}
const sent = async () =>
  (await bus.alertsSent()).sort((a, b) => String(a['at']).localeCompare(String(b['at'])));

describe('resource alerts on sentinel.alerts', () => {
  it('spike: nothing; sustained: once; repeat after the interval; clear below 80 with the value; disk at once', async () => {
    await samples(60);
    metrics = { ...metrics, cpuPercent: 97 };
    await samples(15);
    metrics = { ...metrics, cpuPercent: 40 };
    await samples(120);
    expect(await sent()).toEqual([]);

    metrics = { ...metrics, cpuPercent: 91 };
    await samples(120);
    expect(await sent()).toEqual([]);
    await samples(15);
    let alerts = await sent();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      kind: 'cpu_high',
      severity: 'warning',
      details: { value: 91, threshold: 85 },
    });
    const key = alerts[0]?.['dedup_key'];

    await samples(1_680); // 28 min: no repeat yet
    expect(await sent()).toHaveLength(1);
    await samples(120);
    alerts = await sent();
    expect(alerts).toHaveLength(2);
    expect(alerts[1]).toMatchObject({ kind: 'cpu_high', dedup_key: key });

    metrics = { ...metrics, cpuPercent: 81 };
    await samples(300);
    expect(await sent()).toHaveLength(2);
    metrics = { ...metrics, cpuPercent: 62.5 };
    await samples(15);
    alerts = await sent();
    expect(alerts).toHaveLength(3);
    expect(alerts[2]).toMatchObject({
      kind: 'resolved',
      severity: 'info',
      dedup_key: key,
      details: { value: 62.5 },
    });

    metrics = {
      ...metrics,
      disks: [{ paths: ['/', memoryDir], usedPercent: 93.2, sizeBytes: 1_000, availableBytes: 68 }],
    };
    await samples(15);
    alerts = await sent();
    expect(alerts).toHaveLength(4);
    expect(alerts[3]).toMatchObject({
      kind: 'disk_high',
      severity: 'warning',
      details: { value: 93.2, paths: ['/', memoryDir] },
    });

    const events = (await readRunLogEntries(memoryDir)).map((e) => e.event);
    expect(events).toEqual(['resource_high', 'resource_repeat', 'resource_resolved', 'resource_high']);
  });

  it("reads this host's CPU, memory and disks (/, Docker's data root, the memory folder)", async () => {
    const source = makeHostMetricsSource(
      defaultDiskPaths({ hostRoot: '/', dockerRootDir: '/var/lib/docker', memoryDir }),
    );
    const first = await source.sample();
    expect(first.cpuPercent).toBeNull(); // nothing to compare with yet
    await new Promise((r) => setTimeout(r, 300));
    const m = await source.sample();
    expect(m.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(m.cpuPercent).toBeLessThanOrEqual(100);
    expect(m.memoryPercent).toBeGreaterThan(0);
    expect(m.memoryPercent).toBeLessThan(100);
    const paths = m.disks.flatMap((d) => d.paths);
    expect(paths).toEqual(expect.arrayContaining(['/', memoryDir]));
    for (const d of m.disks) expect(d.usedPercent).toBeGreaterThan(0);
  });
});
