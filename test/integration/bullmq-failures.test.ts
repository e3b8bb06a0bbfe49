// A job that BullMQ fails by itself (here: stalled past the limit after its worker died) still ends
// with a final ActionResult, a run-log entry and an action_result alert.
import { Worker } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/containers.js';
import { type BusClient, busClient, cardRequest, startTestHelm, type TestHelm } from '../helpers/helm.js';
import { freshPrefix } from '../helpers/queue-prefix.js';
import { readRunLogEntries } from '../helpers/run-log.js';

let h: TestHelm | undefined;
let bus: BusClient | undefined;
afterAll(async () => {
  await bus?.close();
  await h?.close();
});

describe('a job failed by BullMQ itself', () => {
  it('still ends with a final result (internal), a run-log entry and an alert', async () => {
    const prefix = freshPrefix();
    bus = await busClient(prefix);
    // Another consumer takes the job and dies holding it (its lock is never renewed).
    let taken!: () => void;
    const tookIt = new Promise<void>((r) => {
      taken = r;
    });
    const rogue = new Worker(
      'helm.actions',
      async () => {
        taken();
        await new Promise(() => undefined);
      },
      // Its stalled-check interval also guards the next check (a Redis key): keep it short as well.
      { connection: bus.redis.duplicate(), prefix, lockDuration: 1000, stalledInterval: 500, autorun: true },
    );
    const job = await bus.send(cardRequest({ target: 'whatever' }));
    await tookIt;
    await rogue.close(true);

    // A Helm whose stalled limit is 0 (set for this test only) lets BullMQ fail the stalled job.
    h = await startTestHelm(
      { HELM_MAX_STALLED_COUNT: '0', HELM_LOCK_DURATION_MS: '1000', HELM_STALLED_INTERVAL_MS: '500' },
      { prefix },
    );
    await waitFor(async () => (await job.getState()) === 'failed', 'BullMQ to fail the stalled job', 30_000);

    const progress = await waitFor(async () => {
      const fresh = await bus!.actions.getJob(job.id!);
      const p = fresh?.progress as { status?: string } | undefined;
      return p?.status === 'failed' ? p : null;
    }, 'the final result on the job');
    expect(progress).toMatchObject({
      status: 'failed',
      error: { code: 'internal' },
      logged: true,
      job_id: job.id,
      action: 'health_check',
      target: 'whatever',
    });
    expect((progress as { error: { message: string } }).error.message).toMatch(
      /BullMQ ended this job on its own \(job stalled more than allowable limit\)/,
    );

    const entries = (await readRunLogEntries(h.memoryDir)).filter((e) => e.job_id === job.id);
    expect(entries.map((e) => [e.event, e.code])).toEqual([['failed', 'internal']]);
    const alert = await waitFor(
      async () => (await bus!.alertsSent()).find((a) => a.dedup_key === `action_result:${job.id}`),
      'the alert',
    );
    expect(alert.severity).toBe('warning');
  });
});
