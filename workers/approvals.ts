import type { Config } from '../src/config/config.js';
import { approvalsQueueName, QUEUE } from '../src/bus/queue-names.js';
import { type RunningWorker, startWorker } from '../src/bus/start-worker.js';
import { forwardedDecisionHandler } from '../src/gate/forward-decision.js';
import { type DecisionDeps, makeDecisionHandler } from '../src/gate/handle-decision.js';

/**
 * helm.approvals: Warden's ApprovalDecisions. A job's steps (src/gate/handle-decision.ts):
 *   0. a decision for a plan on another host goes to that host's helm.approvals.<host> (contract 1.5);
 *   1. verify the decision's signature on its JSON text exactly as it rests in Redis;
 *   2. accept it only under the contract's rules (a parked request, the same plan hash, in time, once);
 *   3. consume it atomically in Redis and record it in the run log (forgeries are alerted);
 *   4. wake the parked request on helm.actions, which then goes on to helm.exec or ends denied.
 * helm.approvals.<this host>: the decisions other hosts forwarded here, from step 1 on.
 */
export function startApprovalsWorker(config: Readonly<Config>, decisions: DecisionDeps): RunningWorker {
  // Decisions are few and each one is a race to consume: one at a time per process is plenty.
  const opts = { concurrency: 4, logger: decisions.logger };
  const publicQueue = startWorker(config, QUEUE.approvals, makeDecisionHandler(decisions), opts);
  const forwarded = startWorker(
    config,
    approvalsQueueName(config.host),
    forwardedDecisionHandler(decisions, makeDecisionHandler),
    opts,
  );
  return {
    worker: publicQueue.worker,
    async close() {
      await Promise.all([publicQueue.close(), forwarded.close()]);
    },
  };
}
