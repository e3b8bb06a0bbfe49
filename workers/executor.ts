import type { Config } from '../src/config/config.js';
import { type RunningWorker, startWorker } from '../src/bus/start-worker.js';
import { EXEC_QUEUE } from '../src/exec-job/exec-job.js';
import { type ExecDeps, makeExecJobHandler } from '../src/executor/run-exec-job.js';

/**
 * The executor worker: carries out the plans the gate hands it on helm.exec, one operation per
 * service at a time (leases), announcing every Docker change before it makes it (intents).
 */
export function startExecutorWorker(config: Readonly<Config>, deps: ExecDeps): RunningWorker {
  return startWorker(config, EXEC_QUEUE, makeExecJobHandler(deps), {
    concurrency: config.execConcurrency,
    logger: deps.logger,
  });
}
