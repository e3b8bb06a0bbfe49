import { Worker } from 'bullmq';
import type { Config } from '../src/config/config.js';
import { makeBlockingConnection } from '../src/bus/redis-connection.js';
import { QUEUE } from '../src/bus/queue-names.js';
import { type IntakeDeps, makeActionJobHandler } from '../src/intake/handle-action-job.js';

/**
 * The gate worker: every job on helm.actions enters Helm here. Today it validates, enforces
 * request_id and runs the safe reads; production changes will wait here for Warden.
 */
export function startGateWorker(
  config: Config,
  deps: IntakeDeps,
): { worker: Worker; close(): Promise<void> } {
  const connection = makeBlockingConnection(config.redisUrl, `helm-gate-${config.instance}`);
  const retention = { age: config.requestIdWindowS, count: config.jobRetentionCount };
  const worker = new Worker(QUEUE.actions, makeActionJobHandler(deps), {
    connection,
    prefix: config.queuePrefix,
    concurrency: config.gateConcurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
    // Finished requests are kept for the request_id window or up to a count, whichever comes first.
    removeOnComplete: retention,
    removeOnFail: retention,
    name: config.instance,
  });
  worker.on('error', (err) => deps.logger.error({ err }, 'gate worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      // BullMQ does not close a connection it was handed.
      connection.disconnect();
    },
  };
}
