import type { Config } from '../src/config/config.js';
import { QUEUE } from '../src/bus/queue-names.js';
import { type RunningWorker, startWorker } from '../src/bus/start-worker.js';
import { type DecisionDeps, makeDecisionHandler } from '../src/gate/handle-decision.js';
import { type IntakeDeps, makeActionJobHandler } from '../src/intake/handle-action-job.js';

/**
 * The gate worker: every job on helm.actions enters Helm here (validation, request_id, the policy,
 * parking for Warden), and every decision on helm.approvals is verified and consumed here.
 */
export function startGateWorkers(
  config: Readonly<Config>,
  intake: IntakeDeps,
  decisions: DecisionDeps,
): RunningWorker[] {
  return [
    startWorker(config, QUEUE.actions, makeActionJobHandler(intake), {
      concurrency: config.gateConcurrency,
      logger: intake.logger,
    }),
    // Decisions are few and each one is a race to consume: one at a time per process is plenty.
    startWorker(config, QUEUE.approvals, makeDecisionHandler(decisions), {
      concurrency: 4,
      logger: decisions.logger,
    }),
  ];
}
