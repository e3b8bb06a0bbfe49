import type { Config } from '../src/config/config.js';
import { type RunningWorker, startWorker } from '../src/bus/start-worker.js';
import { execQueueName } from '../src/exec-job/exec-job.js';
import { type ExecDeps, makeExecJobHandler } from '../src/executor/run-exec-job.js';

/**
 * helm.exec.<host id>: this host's plans (contract 1.5: each host's executors consume only their own), the plans the gate approved or auto-approved. A job's steps (src/executor/run-exec-job.ts):
 *   1. refuse a job whose MAC does not verify, that is not the child of its request job, or whose
 *      plan names another host;
 *   2. take the service's lease (one operation per service at a time), or wait for it delayed;
 *   3. an intent left on disk for this job: a worker died mid-change, so reconcile it (crash recovery);
 *   4. otherwise observe again and re-check the plan, announce the change (intent), run the operation;
 *   5. record the result and release the lease.
 */
export function startExecWorker(config: Readonly<Config>, deps: ExecDeps): RunningWorker {
  return startWorker(config, execQueueName(config.host), makeExecJobHandler(deps), {
    concurrency: config.execConcurrency,
    logger: deps.logger,
  });
}
