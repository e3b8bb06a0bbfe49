import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/bus/alert-sender.js';
import { makeManualClock } from '../../../src/base/clock.js';
import type { ContainerStatsSample } from '../../../src/docker/docker-ports.js';
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

/** startContainerStats on a fake stats stream of one container (c1, a 1-CPU limit on a 4-CPU host). */
async function fakeStats() {
  const clock = makeManualClock();
  const feeds = new Map<string, (s: ContainerStatsSample) => void>();
  let phase = 'running';
  const sent: AlertInput[] = [];
  const warns: Array<Record<string, unknown>> = [];
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
    logger: { info() {}, warn: (obj) => warns.push(obj as Record<string, unknown>), error() {} },
    host: 'h1',
    rules: { cpu: { threshold: 85, windowMs: 120_000, hysteresis: 5, repeatMs: 3_600_000 } },
    syncMs: 3_600_000,
    hostCpus: 4,
  });
  await watch.sync();
  return {
    watch,
    sent,
    warns,
    feeds,
    setPhase: (p: string) => {
      phase = p;
    },
    feed(cpu: number | null, memoryBytes = 10, memoryLimitBytes = 100) {
      feeds.get('c1')?.({ cpuPercent: cpu, memoryBytes, memoryLimitBytes });
      clock.advance(30_000);
    },
    async kinds() {
      await new Promise((r) => setImmediate(r));
      return sent.map((a) => `${a.kind}:${a.details?.['value']}`);
    },
  };
}

describe('startContainerStats with a fake stats stream and a manual clock', () => {
  it('sustained → one cpu_high; below the lower threshold → resolved; stopped while high → resolved', async () => {
    const { watch, sent, feeds, setPhase, feed, kinds } = await fakeStats();
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
    setPhase('down');
    await watch.sync();
    const all = await kinds();
    expect(all.slice(2)).toEqual(['cpu_high:99', 'resolved:99']);
    expect(sent[3]?.message).toContain('no longer running');
    expect(feeds.size).toBe(0);
    watch.close();
  });

  it('an impossible sample (negative, above every host CPU, memory above its limit) is dropped and logged, never resolves', async () => {
    const { watch, warns, feed, kinds } = await fakeStats();
    for (let i = 0; i < 6; i += 1) feed(95);
    expect(await kinds()).toEqual(['cpu_high:95']);
    // What a counter reset gives (the container restarted on the same stream): −472.7 %.
    feed(-472.7);
    feed(401); // more than the host's 4 CPUs, in percent of a 1-CPU allowance: 401 > 400
    feed(95, 120, 100); // 120 % of its memory limit
    feed(Number.NaN);
    expect(await kinds()).toEqual(['cpu_high:95']);
    expect(watch.latest()).toMatchObject([{ cpuPercent: 95, memoryPercent: 10 }]);
    expect(warns).toHaveLength(4);
    expect(warns[0]).toMatchObject({ container: 'web-1', cpuPercent: -472.7 });
    expect(String(warns[0]?.['problem'])).toMatch(/negative/);
    // Still firing: the next real reading decides.
    feed(400);
    feed(70);
    expect(await kinds()).toEqual(['cpu_high:95', 'resolved:70']);
    watch.close();
  });
});
