import { describe, expect, it } from 'vitest';
import { cpuAllowance, usagePercent } from '../../../src/monitor/container-stats.js';

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
