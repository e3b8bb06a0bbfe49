import type { Config } from '../src/config/config.js';
import { QUEUE } from '../src/bus/queue-names.js';
import { type RunningWorker, startWorker } from '../src/bus/start-worker.js';
import { type IntakeDeps, makeActionJobHandler } from '../src/intake/handle-action-job.js';

/**
 * helm.actions: every ActionRequest enters Helm here. A job's steps (src/intake/handle-action-job.ts):
 *   1. parse and validate it (a malformed job is answered `invalid_request`, never retried, never run);
 *   2. enforce its request_id (a repeat gets the first answer);
 *   3. a safe read (health_check, logs, …) is answered here, under the policy's deny rules;
 *   4. a change goes to the gate (src/gate/gate.ts): observe, plan, policy, then either an exec job on
 *      helm.exec or a request parked for Warden on warden.requests;
 *   5. the final ActionResult is logged, published as progress, alerted when it failed, and returned.
 */
export function startActionsWorker(config: Readonly<Config>, intake: IntakeDeps): RunningWorker {
  return startWorker(config, QUEUE.actions, makeActionJobHandler(intake), {
    concurrency: config.gateConcurrency,
    logger: intake.logger,
  });
}
