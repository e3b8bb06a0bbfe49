import type { BusJob as Job } from '../bus/job-control-flow.js';
import type { ActionRequest, ActionResult } from '../contracts/index.js';
import { failedResult, type ResultSubject } from '../results/result-builder.js';
import { finish } from './finish.js';
import type { IntakeDeps } from './intake-deps.js';

/**
 * A request that changes something goes to the gate, but only if its arrival made it into the run
 * log: fail closed, a change that cannot be logged is not made. Without a gate that handles the
 * action, it is answered unavailable.
 */
export async function handToGate(
  deps: IntakeDeps,
  job: Job,
  token: string | undefined,
  request: ActionRequest,
  subject: ResultSubject,
  received: boolean,
): Promise<ActionResult> {
  if (!received) {
    const why = `Helm cannot write its run log (${deps.runLog.status().reason ?? 'write failed'}), and it changes nothing it cannot log; nothing was changed`;
    return finish(deps, job, failedResult(subject, deps.clock.now(), 'unavailable', why));
  }
  if (deps.gate?.handles(request.action)) return deps.gate.start(job, token, request, subject);
  const why = `${request.action} is not available yet in this Helm version; nothing was changed`;
  return finish(deps, job, failedResult(subject, deps.clock.now(), 'unavailable', why));
}
