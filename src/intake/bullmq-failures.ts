import type { Clock } from '../base/clock.js';
import type { Logger } from '../log/logger.js';
import { failedResult, subjectFromRawData } from '../results/result-builder.js';
import { type ProgressTarget, publishStatus, type StatusSinks } from '../results/publish-status.js';

/**
 * Every request ends with a final ActionResult and a run-log entry, even one that BullMQ failed by
 * itself (a stalled-limit failure, a lost lock, an operator's moveToFailed): Helm listens for
 * failures on helm.actions and, at start-up, sweeps the failed jobs it has not finished yet.
 */
export interface FailureWatchDeps {
  queue: FailedJobsQueue;
  events: FailureEvents;
  sinks: StatusSinks;
  clock: Clock;
  logger: Logger;
}

/** The queue's failed jobs, and one job by id (a BullMQ Queue is one). */
export interface FailedJobsQueue {
  getFailed(start: number, end: number): Promise<Array<{ id?: string | undefined; failedReason: string }>>;
  getJob(id: string): Promise<(ProgressTarget & { data: unknown }) | undefined>;
}

/** The queue's failure events (a BullMQ QueueEvents is one). */
export interface FailureEvents {
  on(event: 'failed', listener: (args: { jobId: string; failedReason: string }) => void): unknown;
}

/** How many failed jobs the start-up sweep looks at; older ones were swept by earlier starts. */
const SWEEP_LIMIT = 1000;

export function watchBullmqFailures(deps: FailureWatchDeps): { sweep(): Promise<number> } {
  deps.events.on('failed', ({ jobId, failedReason }) => {
    ensureFinal(deps, jobId, failedReason).catch((err) =>
      deps.logger.error({ err, job_id: jobId }, 'could not finish a failed job'),
    );
  });
  return {
    async sweep() {
      const failed = await deps.queue.getFailed(0, SWEEP_LIMIT - 1);
      let finished = 0;
      for (const job of failed)
        if (job.id && (await ensureFinal(deps, job.id, job.failedReason))) finished += 1;
      return finished;
    },
  };
}

export async function ensureFinal(
  deps: FailureWatchDeps,
  jobId: string,
  failedReason: string | undefined,
): Promise<boolean> {
  if (await deps.sinks.records.isFinal(jobId)) return false;
  const job = await deps.queue.getJob(jobId);
  if (!job) return false;
  // Claim it first: with several Helm processes listening, exactly one writes the final result.
  if (!(await deps.sinks.records.markFinal(jobId))) return false;
  const reason = failedReason?.trim() || 'no reason given';
  const result = failedResult(
    subjectFromRawData(job.data, jobId),
    deps.clock.now(),
    'internal',
    `BullMQ ended this job on its own (${reason.slice(0, 300)}); Helm recorded it as failed and did not run it again`,
  );
  deps.logger.warn({ job_id: jobId, failed_reason: reason }, 'job failed by BullMQ; final result written');
  await publishStatus(deps.sinks, job, result, { event: 'failed', final: true });
  return true;
}
