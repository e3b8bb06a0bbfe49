import type { Job } from 'bullmq';
import type { ActionResult } from '../contracts/index.js';
import { publishStatus, type RunLogEvent } from '../results/publish-status.js';
import { failedResult, type ResultSubject } from '../results/result-builder.js';
import type { GateDeps } from './gate-deps.js';

/** A request's last result: published as final, and logged as `event` (by default executed or failed). */
export function finish(
  deps: GateDeps,
  job: Job,
  r: ActionResult,
  event?: RunLogEvent,
): Promise<ActionResult> {
  return publishStatus(deps, job, r, {
    event: event ?? (r.status === 'executed' ? 'executed' : 'failed'),
    final: true,
  });
}

/** A request that ends failed with `code`: the gate refused it, or it could not go on. */
export function finishFailed(
  deps: GateDeps,
  { job, subject }: { job: Job; subject: ResultSubject },
  code: string,
  message: string,
  event?: RunLogEvent,
): Promise<ActionResult> {
  return finish(deps, job, failedResult(subject, deps.clock.now(), code, message), event);
}
