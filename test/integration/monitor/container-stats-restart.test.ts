// A container restarted while its Docker stats stream stays open (issue 8, item 6): Docker's CPU
// counters start again from zero, but the stream's precpu_stats still holds the previous run's total,
// so the delta is negative. That sample once resolved a cpu_high with "back to -472.7 %". No reading
// the monitor shows or alerts on may be negative or above what the container could use.
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { removeTestContainers, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let h: MonitorHarness;
beforeAll(async () => {
  h = await startMonitorHarness({
    extra: {
      containerStats: {
        rules: { cpu: { threshold: 10, windowMs: 0, hysteresis: 5, repeatMs: 3_600_000 } },
        // Synced by the test only: the stream must stay open across the restart.
        syncMs: 3_600_000,
      },
    },
  });
});
afterAll(async () => {
  await h?.close();
  await removeTestContainers();
});

const CPUS = 0.5;
const MAX_CPU_PERCENT = (100 * os.availableParallelism()) / CPUS;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('container stats across a restart on the same stream', () => {
  it('the sample after the counters reset is never a reading: no negative value shown or alerted', async () => {
    const name = uniqueName('mon-stats-restart');
    const c = await testDocker().createContainer({
      name,
      Image: WEB_IMAGE_V1,
      Cmd: ['/bin/sh', '-c', 'while :; do :; done'],
      Labels: testLabels({ ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'staging' }),
      Healthcheck: { Test: ['NONE'] },
      HostConfig: { Init: true, NanoCpus: CPUS * 1e9 },
    });
    await c.start();
    const stats = h.monitor.containerStats;
    if (!stats) throw new Error('container stats not started');
    await waitFor(
      async () => h.monitor.watcher.snapshot().some((s) => s.id === c.id && s.phase === 'running'),
      'the monitor to see it',
    );
    await stats.sync();
    // Every reading the monitor exposes, polled faster than Docker's one sample a second.
    const seen: Array<{ cpu: number; memory: number | null }> = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        for (const u of stats.latest())
          if (u.id === c.id && u.cpuPercent !== null)
            seen.push({ cpu: u.cpuPercent, memory: u.memoryPercent });
        await sleep(50);
      }
    })();
    // A cpu_high (threshold 10 %, no window) is likely open by the restart: a reset sample would resolve it.
    await waitFor(async () => seen.length > 0, 'a first reading');
    await sleep(2_000); // a few seconds of CPU time on the counter
    await c.restart({ t: 1 });
    await sleep(4_000); // the reset sample and a few after it
    polling = false;
    await poll;

    const values = h
      .alertsFor(name)
      .filter((a) => a.kind === 'cpu_high' || a.kind === 'resolved')
      .map((a) => Number(a.details?.['value']));
    const inRange = (v: number | null, max: number) => v === null || (v >= 0 && v <= max);
    expect([...seen.map((r) => r.cpu), ...values].filter((v) => !inRange(v, MAX_CPU_PERCENT))).toEqual([]);
    expect(seen.map((r) => r.memory).filter((v) => !inRange(v, 100))).toEqual([]);
    expect(seen.length).toBeGreaterThan(0);
  }, 60_000);
});
