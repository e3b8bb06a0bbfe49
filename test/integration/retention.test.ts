// Retention within bounds: finished helm.actions jobs are kept up to the count bound, and the bus's
// events-stream bound is set on the queues Helm creates.
import { afterAll, describe, expect, it } from 'vitest';
import { type BusClient, busClient, cardRequest, startTestHelm, type TestHelm } from '../helpers/helm.js';

let h: TestHelm | undefined;
let bus: BusClient | undefined;
afterAll(async () => {
  await bus?.close();
  await h?.close();
});

describe('retention', () => {
  it('keeps at most HELM_JOB_RETENTION_COUNT finished jobs and bounds the events stream', async () => {
    h = await startTestHelm({ HELM_JOB_RETENTION_COUNT: '10', HELM_EVENTS_MAXLEN: '500' });
    bus = await busClient(h.prefix, undefined, 500);
    for (let i = 0; i < 25; i += 1) await bus.request(cardRequest({ target: '../refused' }));
    const counts = await bus.actions.getJobCounts('completed', 'failed');
    expect(counts.completed).toBeGreaterThan(0);
    expect(counts.completed).toBeLessThanOrEqual(10);
    expect(await bus.redis.hget(`${h.prefix}:helm.actions:meta`, 'opts.maxLenEvents')).toBe('500');
    expect(await bus.redis.hget(`${h.prefix}:sentinel.alerts:meta`, 'opts.maxLenEvents')).toBe('500');
  });
});
