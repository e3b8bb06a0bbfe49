import { type Processor, Worker, type WorkerOptions } from 'bullmq';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { makeBlockingConnection } from './redis-connection.js';

/** A running BullMQ worker and how to stop it (BullMQ does not close a connection it was handed). */
export interface RunningWorker {
  worker: Worker;
  close(): Promise<void>;
}

/**
 * Every Helm worker is made the same way: its own blocking connection, the configured lock and
 * stalled-check timings, a stalled limit so high that BullMQ never fails a job by itself, and
 * retention within the request_id window and the count bound.
 */
export function startWorker(
  config: Readonly<Config>,
  queue: string,
  processor: Processor,
  opts: { concurrency: number; logger: Logger },
): RunningWorker {
  const connection = makeBlockingConnection(config.redisUrl, `helm-${queue}-${config.instance}`);
  const retention = { age: config.requestIdWindowS, count: config.jobRetentionCount };
  const worker = makeWorker(queue, processor, {
    connection,
    prefix: config.queuePrefix,
    concurrency: opts.concurrency,
    lockDuration: config.lockDurationMs,
    stalledInterval: config.stalledIntervalMs,
    maxStalledCount: config.maxStalledCount,
    removeOnComplete: retention,
    removeOnFail: retention,
    name: config.instance,
  });
  worker.on('error', (err) => opts.logger.error({ err, queue }, 'worker error'));
  return {
    worker,
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

/**
 * The one place Helm constructs a BullMQ Worker (the architecture's rule): the public and exec queues
 * through startWorker above, the monitor's private helm.pings (workers/pings.ts) with its own prefix
 * and connection.
 */
export function makeWorker(queue: string, processor: Processor, options: WorkerOptions): Worker {
  return new Worker(queue, processor, options);
}
