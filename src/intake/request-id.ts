import type { BusJob as Job } from '../bus/job-control-flow.js';
import { type ActionRequest, type ActionResult, hashCanonical } from '../contracts/index.js';
import { logRequestEvent } from '../results/publish-status.js';
import { failedResult, type ResultSubject, resultWithStatus } from '../results/result-builder.js';
import { finish } from './finish.js';
import type { IntakeDeps } from './intake-deps.js';

/**
 * request_id makes a request idempotent: the first job to reserve it goes on (null here); the same
 * request again is answered with the original's result, never run twice; a different request under
 * the same id is rejected.
 */
export async function enforceRequestId(
  deps: IntakeDeps,
  job: Job,
  request: ActionRequest,
  subject: ResultSubject,
): Promise<ActionResult | null> {
  if (!request.request_id) return null;
  const reservation = await deps.records.reserve(request.request_id, hashCanonical(request), subject.job_id);
  if (reservation.kind === 'duplicate')
    return answerDuplicate(deps, job, subject, reservation.originalJobId, reservation.currentResult);
  if (reservation.kind === 'conflict') {
    await logRequestEvent(deps, 'received', subject, request.reason);
    return finish(
      deps,
      job,
      failedResult(
        subject,
        deps.clock.now(),
        'request_id_conflict',
        `request_id ${request.request_id} already names a different request (job ${reservation.originalJobId}); use a new request_id`,
      ),
      'rejected',
    );
  }
  return null;
}

async function answerDuplicate(
  deps: IntakeDeps,
  job: Job,
  subject: ResultSubject,
  originalJobId: string,
  current: string | null,
): Promise<ActionResult> {
  await logRequestEvent(
    deps,
    'duplicate',
    subject,
    `same request as job ${originalJobId}: not executed again`,
  );
  // The original's latest result as it stands (possibly not final yet: the one case the contract
  // allows), naming the job to follow for the outcome.
  const original = current
    ? (JSON.parse(current) as ActionResult)
    : resultWithStatus(
        subject,
        deps.clock.now(),
        'approved',
        `received; follow job ${originalJobId} for the outcome`,
      );
  const result = { ...original, job_id: subject.job_id, duplicate_of: originalJobId } as ActionResult;
  await job.updateProgress(result);
  return result;
}
