import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** A Redis connection the monitor hands through to its ping schedulers (it never calls Redis itself). */
export type PingConnection = Redis;

export interface PingJobData {
  host: string;
  service: string;
}

/**
 * The health pings' repeating jobs (monitor/pings.ts decides which): one scheduler per service. The
 * jobs are consumed by workers/pings.ts, through bus/start-worker.ts's makeWorker (the one place a
 * BullMQ Worker is made).
 */
export interface PingSchedulers {
  /** Repeats a `ping` job with `data` every `everyMs` under scheduler `id` (replacing one with that id). */
  upsertScheduler(id: string, everyMs: number, data: PingJobData): Promise<void>;
  removeScheduler(id: string): Promise<void>;
  /** Every scheduler on the queue, this process's or a previous run's. */
  schedulerIds(): Promise<string[]>;
  /** Closes the queue (the connection stays open: it is the caller's). */
  close(): Promise<void>;
}

/** The BullMQ adapter of PingSchedulers: a Queue's job schedulers. */
export function openPingSchedulers(opts: {
  name: string;
  prefix: string;
  connection: PingConnection;
}): PingSchedulers {
  const queue = new Queue(opts.name, { connection: opts.connection, prefix: opts.prefix });
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
      await queue.close();
    },
  };
}
