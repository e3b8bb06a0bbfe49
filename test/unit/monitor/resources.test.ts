import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/bus/alert-sender.js';
import { makeManualClock } from '../../../src/clock.js';
import type { RunLogEntryInput } from '../../../src/runlog/index.js';
import {
  defaultDiskPaths,
  type HostMetrics,
  sampleDisks,
  startResourceMonitor,
} from '../../../src/monitor/resources.js';

/** A metrics source the test sets, a manual clock, and sinks for alerts and run-log entries. */
function rig(rules = {}) {
  const clock = makeManualClock();
  let metrics: HostMetrics = { cpuPercent: 10, memoryPercent: 10, disks: [] };
  const alerts: AlertInput[] = [];
  const log: RunLogEntryInput[] = [];
  const monitor = startResourceMonitor({
    source: { sample: async () => metrics },
    clock,
    alerts: {
      async send(a) {
        alerts.push(a);
        return null;
      },
    },
    runLog: {
      async append(e) {
        log.push(e);
        return {} as never;
      },
    },
    logger: { warn() {}, error() {} },
    host: 'host1',
    rules,
    autoStart: false,
  });
  return {
    clock,
    alerts,
    log,
    set(m: Partial<HostMetrics>) {
      metrics = { ...metrics, ...m };
    },
    /** One sample every 15 s for `seconds`. */
    async run(seconds: number) {
      for (let t = 0; t < seconds; t += 15) {
        await monitor.sampleNow();
        clock.advance(15_000);
      }
    },
  };
}

describe('resource monitor (injected metrics and clock)', () => {
  it('a single CPU spike raises nothing', async () => {
    const r = rig();
    await r.run(60);
    r.set({ cpuPercent: 99 });
    await r.run(15);
    r.set({ cpuPercent: 20 });
    await r.run(600);
    expect(r.alerts).toEqual([]);
  });

  it('a sustained breach fires once after the 2-minute window; repeats only after the interval; clears below 80 with the value', async () => {
    const r = rig({ memory: { threshold: 85, windowMs: 120_000, hysteresis: 5, repeatMs: 1_800_000 } });
    r.set({ memoryPercent: 91.26 });
    await r.run(120); // samples at 0 … 105 s
    expect(r.alerts).toEqual([]);
    await r.run(15);
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({
      kind: 'memory_high',
      severity: 'warning',
      details: { value: 91.3, threshold: 85, clear_below: 80, host: 'host1' },
    });
    await r.run(1_500); // 25 min more
    expect(r.alerts).toHaveLength(1);
    await r.run(300);
    expect(r.alerts).toHaveLength(2);
    expect(r.alerts[1]).toMatchObject({ kind: 'memory_high', dedup_key: r.alerts[0]?.dedup_key });
    r.set({ memoryPercent: 82 });
    await r.run(300);
    expect(r.alerts).toHaveLength(2);
    r.set({ memoryPercent: 77.04 });
    await r.run(15);
    expect(r.alerts).toHaveLength(3);
    expect(r.alerts[2]).toMatchObject({
      kind: 'resolved',
      severity: 'info',
      dedup_key: r.alerts[0]?.dedup_key,
      details: { value: 77 },
    });
    expect(r.log.map((e) => e.event)).toEqual(['resource_high', 'resource_repeat', 'resource_resolved']);
  });

  it('disk fires at once, per filesystem, critical from 95 %', async () => {
    const r = rig();
    r.set({
      disks: [
        { paths: ['/'], usedPercent: 50, sizeBytes: 100, availableBytes: 50 },
        { paths: ['/var/lib/docker'], usedPercent: 96, sizeBytes: 100, availableBytes: 4 },
      ],
    });
    await r.run(15);
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0]).toMatchObject({
      kind: 'disk_high',
      severity: 'critical',
      details: { paths: ['/var/lib/docker'], value: 96 },
    });
    expect(r.alerts[0]?.dedup_key).toMatch(/^disk_high:host1:\/var\/lib\/docker:\d+$/);
  });
});

describe('disk sampling', () => {
  it('groups paths on one filesystem and reads df-style use', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'helm-disk-'));
    const disks = await sampleDisks([
      { label: '/', path: '/' },
      { label: dir, path: dir },
      { label: '/nope', path: '/does/not/exist' },
    ]);
    expect(disks.length).toBeGreaterThanOrEqual(1);
    const all = disks.flatMap((d) => d.paths);
    expect(all).toContain('/');
    expect(all).toContain(dir);
    expect(all).not.toContain('/nope');
    for (const d of disks) expect(d.usedPercent).toBeGreaterThanOrEqual(0);
  });
  it('reads host paths under the mounted host root', () => {
    expect(
      defaultDiskPaths({ hostRoot: '/host', dockerRootDir: '/var/lib/docker', memoryDir: '/memory' }),
    ).toEqual([
      { label: '/', path: '/host' },
      { label: '/var/lib/docker', path: '/host/var/lib/docker' },
      { label: '/memory', path: '/memory' },
    ]);
  });
});
