import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/bus/alert-sender.js';
import { makeManualClock } from '../../../src/base/clock.js';
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
  const warns: Array<Record<string, unknown>> = [];
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
    logger: { warn: (obj) => warns.push(obj as Record<string, unknown>), error() {} },
    host: 'host1',
    rules,
    autoStart: false,
  });
  return {
    clock,
    alerts,
    log,
    warns,
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

describe('resource monitor: impossible readings (issue 8, item 6)', () => {
  it('a negative or above-100 % host reading is dropped and logged, never resolves or fires', async () => {
    const r = rig({ cpu: { threshold: 85, windowMs: 0, hysteresis: 5, repeatMs: 3_600_000 } });
    r.set({ cpuPercent: 97 });
    await r.run(15);
    expect(r.alerts.map((a) => a.kind)).toEqual(['cpu_high']);
    r.set({ cpuPercent: -472.7 });
    await r.run(30);
    r.set({
      cpuPercent: 100.5,
      memoryPercent: -3,
      disks: [{ paths: ['/'], usedPercent: 140, sizeBytes: 1, availableBytes: 0 }],
    });
    await r.run(15);
    expect(r.alerts.map((a) => a.kind)).toEqual(['cpu_high']);
    expect(r.warns.map((w) => [w['metric'], w['value']])).toEqual([
      ['cpu', -472.7],
      ['cpu', -472.7],
      ['cpu', 100.5],
      ['memory', -3],
      ['disk', 140],
    ]);
    expect(String(r.warns[0]?.['problem'])).toMatch(/negative/);
    r.set({ cpuPercent: 40, memoryPercent: 10, disks: [] });
    await r.run(15);
    expect(r.alerts.map((a) => `${a.kind}:${a.details?.['value']}`)).toEqual(['cpu_high:97', 'resolved:40']);
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
