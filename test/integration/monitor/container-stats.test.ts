// Per-container CPU and memory through Docker's stats streams (one stream per container): a managed
// container limited to half a CPU that spins for a few seconds fires cpu_high (key
// cpu_high:<host>:<container>:<since>) once the window held, and resolves with its value once it
// idles; the latest readings are exposed for doctor / the status page.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MonitorReport, monitorReportKey } from '../../../src/monitor/monitor-report.js';
import { TEST_REDIS_URL } from '../../helpers/helm.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { removeTestContainers, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let h: MonitorHarness;
beforeAll(async () => {
  h = await startMonitorHarness({
    extra: ({ prefix, redisUrl }) => ({
      bus: { redisUrl, prefix },
      pings: false,
      queueBacklog: false,
      logGrowth: false,
      containerStats: {
        rules: { cpu: { threshold: 60, windowMs: 1_500, hysteresis: 5, repeatMs: 3_600_000 } },
        syncMs: 200,
      },
    }),
  });
});
afterAll(async () => {
  await h?.close();
  await removeTestContainers();
});

describe('container stats, streamed', () => {
  it('a busy container fires cpu_high after the window and resolves below the lower threshold', async () => {
    const busy = uniqueName('mon-stats-busy');
    const idle = uniqueName('mon-stats-idle');
    const make = (name: string, cmd: string) =>
      testDocker().createContainer({
        name,
        Image: WEB_IMAGE_V1,
        Cmd: ['/bin/sh', '-c', cmd],
        Labels: testLabels({ ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'staging' }),
        Healthcheck: { Test: ['NONE'] },
        HostConfig: { Init: true, NanoCpus: 0.5e9 },
      });
    const b = await make(
      busy,
      'end=$(( $(date +%s) + 8 )); while [ $(date +%s) -lt $end ]; do :; done; exec sleep 1000',
    );
    const i = await make(idle, 'exec sleep 1000');
    const startedAt = Date.now();
    await Promise.all([b.start(), i.start()]);

    const stats = h.monitor.containerStats;
    if (!stats) throw new Error('container stats not started');
    const high = await h.waitForAlert('cpu_high', (a) => a.kind === 'cpu_high' && a.target === busy, 15_000);
    console.log(`[monitor] busy container → cpu_high after ${high.receivedAt - startedAt} ms (window 1.5 s)`);
    expect(high.alert.dedup_key).toMatch(new RegExp(`^cpu_high:test-host:${busy}:\\d+$`));
    expect(high.alert.details).toMatchObject({ container: busy, cpus: 0.5, threshold: 60 });
    expect(Number(high.alert.details?.['value'])).toBeGreaterThan(60);

    const readings = await waitFor(async () => {
      const l = stats.latest();
      return l.some((u) => u.name === idle && u.cpuPercent !== null) ? l : null;
    }, 'readings of both');
    const busyNow = readings.find((u) => u.name === busy);
    const idleNow = readings.find((u) => u.name === idle);
    expect(idleNow?.cpuPercent).toBeLessThan(20);
    expect(idleNow?.memoryPercent).toBeGreaterThanOrEqual(0);
    expect(busyNow?.memoryBytes).toBeGreaterThan(0);
    // Published for doctor / the status page.
    const publish = h.monitor.publishReport;
    if (!publish) throw new Error('no report');
    await publish();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const stored = JSON.parse(
        (await redis.get(monitorReportKey(h.prefix, 'test-host'))) ?? 'null',
      ) as MonitorReport;
      expect(stored.containers.map((c) => c.name)).toEqual(expect.arrayContaining([busy, idle]));
      expect(stored.queues).toBeNull();
    } finally {
      redis.disconnect();
    }

    const back = await h.waitForAlert(
      'resolved',
      (a) => a.kind === 'resolved' && a.dedup_key === high.alert.dedup_key,
      15_000,
    );
    expect(Number(back.alert.details?.['value'])).toBeLessThan(55);
    expect(h.alertsFor(busy).map((a) => a.kind)).toEqual(['cpu_high', 'resolved']);
    expect(h.alertsFor(idle)).toEqual([]);
    expect(await h.runLogEvents(busy)).toEqual(['resource_high', 'resource_resolved']);
  });
});
