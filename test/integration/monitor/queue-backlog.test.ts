// helm_degraded when Helm cannot keep up with helm.actions: its waiting count rising over several
// samples (real Redis, nobody consuming) raises one helm_degraded:queues; draining resolves it.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_DEGRADED_KEY } from '../../../src/monitor/queue-backlog.js';
import { TEST_REDIS_URL } from '../../helpers/helm.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let h: MonitorHarness;
let redis: Redis;
let actions: Queue;
beforeAll(async () => {
  h = await startMonitorHarness({
    // The test takes the samples itself.
    extra: ({ prefix, redisUrl }) => ({
      bus: { redisUrl, prefix },
      pings: false,
      logGrowth: false,
      queueBacklog: { intervalMs: 3_600_000 },
    }),
  });
  redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  actions = new Queue('helm.actions', { connection: redis, prefix: h.prefix });
});
afterAll(async () => {
  await h?.close();
  await actions?.close();
  redis?.disconnect();
});

const add = (n: number) =>
  actions.addBulk(Array.from({ length: n }, (_, i) => ({ name: 'req', data: { i } })));

describe('helm_degraded: queues', () => {
  it('a growing backlog fires once; a steady one does not; drained → resolved', async () => {
    const watch = h.monitor.queueBacklog;
    if (!watch) throw new Error('queue backlog watch not started');
    const degraded = () => h.received.filter((r) => r.alert.dedup_key === QUEUE_DEGRADED_KEY);

    // Steady (not rising every sample): nothing.
    await add(12);
    for (let i = 0; i < 5; i += 1) expect(await watch.sampleNow()).toBeNull();
    // Rising over 3 samples after a first one.
    for (let i = 0; i < 2; i += 1) {
      await add(2);
      expect(await watch.sampleNow()).toBeNull();
    }
    await add(2);
    const fired = await watch.sampleNow();
    expect(fired).toMatchObject({
      kind: 'helm_degraded',
      severity: 'warning',
      dedup_key: QUEUE_DEGRADED_KEY,
    });
    // Still growing: no second alert.
    for (let i = 0; i < 3; i += 1) {
      await add(2);
      expect(await watch.sampleNow()).toBeNull();
    }
    expect(watch.phase()).toBe('degraded');

    await actions.drain();
    const resolved = await watch.sampleNow();
    expect(resolved).toMatchObject({ kind: 'resolved', dedup_key: QUEUE_DEGRADED_KEY });
    await h.waitForAlert('resolved', (a) => a.kind === 'resolved' && a.dedup_key === QUEUE_DEGRADED_KEY);
    expect(degraded().map((r) => r.alert.kind)).toEqual(['helm_degraded', 'resolved']);
    expect(await h.runLogEvents()).toEqual(
      expect.arrayContaining(['helm_degraded', 'helm_degraded_resolved']),
    );
  });
});
