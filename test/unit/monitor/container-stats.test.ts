import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/bus/alert-sender.js';
import { makeManualClock } from '../../../src/clock.js';
import type { ContainerStatsSample } from '../../../src/docker/docker-client.js';
import { cpuAllowance, startContainerStats, usagePercent } from '../../../src/monitor/container-stats.js';

describe('cpuAllowance: the CPUs a container may use', () => {
  it.each([
    { name: 'no limit', hc: {}, want: 8 },
    { name: 'NanoCpus 0.5', hc: { NanoCpus: 0.5e9 }, want: 0.5 },
    { name: 'NanoCpus above the host', hc: { NanoCpus: 16e9 }, want: 8 },
    { name: 'quota/period', hc: { CpuQuota: 150_000, CpuPeriod: 100_000 }, want: 1.5 },
    { name: 'quota, default period', hc: { CpuQuota: 50_000 }, want: 0.5 },
    { name: 'quota -1 (none)', hc: { CpuQuota: -1 }, want: 8 },
  ])('$name', ({ hc, want }) => {
    expect(cpuAllowance({ HostConfig: hc } as never, 8)).toBe(want);
  });
});

describe('usagePercent: of the allowance and of the memory limit', () => {
  it.each([
    {
      name: 'first sample',
      s: { cpuPercent: null, memoryBytes: 0, memoryLimitBytes: 100 },
      cpus: 2,
      want: { cpuPercent: null, memoryPercent: 0 },
    },
    {
      name: 'one core of two',
      s: { cpuPercent: 100, memoryBytes: 50, memoryLimitBytes: 100 },
      cpus: 2,
      want: { cpuPercent: 50, memoryPercent: 50 },
    },
    {
      name: 'half a core limit, busy',
      s: { cpuPercent: 50, memoryBytes: 90, memoryLimitBytes: 100 },
      cpus: 0.5,
      want: { cpuPercent: 100, memoryPercent: 90 },
    },
    {
      name: 'no memory limit known',
      s: { cpuPercent: 10, memoryBytes: 90, memoryLimitBytes: 0 },
      cpus: 1,
      want: { cpuPercent: 10, memoryPercent: null },
    },
  ])('$name', ({ s, cpus, want }) => {
    expect(usagePercent(s, cpus)).toEqual(want);
  });
});

describe('startContainerStats with a fake stats stream and a manual clock', () => {
  it('sustained → one cpu_high; below the lower threshold → resolved; stopped while high → resolved', async () => {
    const clock = makeManualClock();
    const feeds = new Map<string, (s: ContainerStatsSample) => void>();
    let phase = 'running';
    const sent: AlertInput[] = [];
    const watch = startContainerStats({
      events: {
        async streamContainerStats(id, onSample) {
          feeds.set(id, onSample);
          return { close: () => feeds.delete(id) };
        },
      },
      docker: { inspectContainer: async () => ({ HostConfig: { NanoCpus: 1e9 } }) as never },
      watcher: { snapshot: () => [{ id: 'c1', name: 'web-1', service: 'web', phase, incident: null }] },
      alerts: {
        async send(a) {
          sent.push(a);
          return null;
        },
      },
      runLog: { append: async () => ({}) as never },
      clock,
      logger: { info() {}, warn() {}, error() {} },
      host: 'h1',
      rules: { cpu: { threshold: 85, windowMs: 120_000, hysteresis: 5, repeatMs: 3_600_000 } },
      syncMs: 3_600_000,
      hostCpus: 4,
    });
    await watch.sync();
    const feed = (cpu: number) => {
      feeds.get('c1')?.({ cpuPercent: cpu, memoryBytes: 10, memoryLimitBytes: 100 });
      clock.advance(30_000);
    };
    const kinds = async () => {
      await new Promise((r) => setImmediate(r));
      return sent.map((a) => `${a.kind}:${a.details?.['value']}`);
    };
    // One core of a 1-CPU limit busy: 95 % of its allowance; a single spike raises nothing.
    feed(95);
    feed(50);
    expect(await kinds()).toEqual([]);
    for (let i = 0; i < 5; i += 1) feed(95);
    expect(await kinds()).toEqual(['cpu_high:95']);
    expect(sent[0]?.dedup_key).toMatch(/^cpu_high:h1:web-1:\d+$/);
    feed(82); // below 85 but not below 80: still firing
    expect(await kinds()).toEqual(['cpu_high:95']);
    feed(70);
    expect(await kinds()).toEqual(['cpu_high:95', 'resolved:70']);
    expect(sent[1]?.dedup_key).toBe(sent[0]?.dedup_key);
    expect(watch.latest()).toMatchObject([{ name: 'web-1', cpuPercent: 70, memoryPercent: 10, cpus: 1 }]);

    for (let i = 0; i < 6; i += 1) feed(99);
    phase = 'down';
    await watch.sync();
    const all = await kinds();
    expect(all.slice(2)).toEqual(['cpu_high:99', 'resolved:99']);
    expect(sent[3]?.message).toContain('no longer running');
    expect(feeds.size).toBe(0);
    watch.close();
  });
});
