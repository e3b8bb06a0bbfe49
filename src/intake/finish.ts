import type { BusJob as Job } from '../bus/job-control-flow.js';
import type { ActionResult } from '../contracts/index.js';
import { publishStatus } from '../results/publish-status.js';
import type { IntakeDeps } from './intake-deps.js';

/** Every path of intake ends here: the final result is logged, published, alerted and returned. */
export function finish(
  deps: IntakeDeps,
  job: Job,
  result: ActionResult,
  event: 'rejected' | 'executed' | 'failed' = result.status === 'executed' ? 'executed' : 'failed',
): Promise<ActionResult> {
  return publishStatus(deps, job, result, { event, final: true });
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
