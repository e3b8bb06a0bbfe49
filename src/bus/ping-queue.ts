import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';

/** A Redis connection the monitor hands through to its ping queue (it never calls Redis itself). */
export type PingConnection = Redis;

export interface PingJobData {
  host: string;
  service: string;
}

/** The health pings' repeating jobs (monitor/pings.ts): one scheduler per service, run by `onPing`. */
export interface PingQueue {
  /** Repeats a `ping` job with `data` every `everyMs` under scheduler `id` (replacing one with that id). */
  upsertScheduler(id: string, everyMs: number, data: PingJobData): Promise<void>;
  removeScheduler(id: string): Promise<void>;
  /** Every scheduler on the queue, this process's or a previous run's. */
  schedulerIds(): Promise<string[]>;
  /** Stops the worker, then the queue (the connections stay open: they are the caller's). */
  close(): Promise<void>;
}

export interface PingQueueOptions {
  name: string;
  prefix: string;
  /** A command connection (the Queue) and a blocking one (the Worker). */
  connection: PingConnection;
  blockingConnection: PingConnection;
  concurrency: number;
  /** Runs one ping job; the data is as stored (unchecked). */
  onPing(data: unknown): Promise<void>;
  onError(err: Error): void;
  onFailed(err: Error, data: unknown): void;
}

/** The BullMQ adapter of PingQueue: a Queue for the schedulers and a Worker that runs their jobs. */
export function openPingQueue(opts: PingQueueOptions): PingQueue {
  const queue = new Queue(opts.name, { connection: opts.connection, prefix: opts.prefix });
  const worker = new Worker(opts.name, async (job) => opts.onPing(job.data), {
    connection: opts.blockingConnection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
  });
  worker.on('error', (err) => opts.onError(err));
  worker.on('failed', (job, err) => opts.onFailed(err, job?.data));
  return {
    async upsertScheduler(id, everyMs, data) {
      await queue.upsertJobScheduler(
        id,
        { every: everyMs },
        { name: 'ping', data, opts: { removeOnComplete: true, removeOnFail: true } },
      );
    },
    async removeScheduler(id) {
      await queue.removeJobScheduler(id);
    },
    async schedulerIds() {
      return (await queue.getJobSchedulers(0, -1)).map((s) => s.key);
    },
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
