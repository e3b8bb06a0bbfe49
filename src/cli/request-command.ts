import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { QUEUE } from '../bus/queue-names.js';
import { redactUrl } from '../bus/redis-connection.js';

/**
 * `helm request <action> <target>`: the owner's CLI as a bus client, exactly as Forge would be one:
 * add an ActionRequest to helm.actions and follow it to its final result.
 *
 * It ends as soon as it has the result or its time is up. BullMQ never closes an ioredis client it
 * was handed (the events connection, a duplicate, was left open: the CLI printed its result and
 * never exited), so both of this command's connections are closed here.
 */
/** How long closing may wait for Redis before the connections are dropped. */
const CLOSE_WAIT_MS = 2_000;

export class RequestTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

export interface FollowOptions {
  timeoutMs: number;
  onProgress?: (p: unknown) => void;
  queue?: string;
}

export function sendRequest(
  config: Readonly<Config>,
  request: Record<string, unknown>,
  opts: FollowOptions,
): Promise<unknown> {
  return followJob(config, opts, (queue) => queue.add(String(request.action ?? 'request'), request));
}

/** A request already on helm.actions (`helm approve --wait`), followed to its final result. */
export function followRequest(
  config: Readonly<Config>,
  jobId: string,
  opts: FollowOptions,
): Promise<unknown> {
  return followJob(config, opts, async (queue) => {
    const job = await queue.getJob(jobId);
    if (!job) throw new Error(`job ${jobId} is no longer on ${queue.name}: its result is in \`helm log\``);
    return job;
  });
}

async function followJob(
  config: Readonly<Config>,
  opts: FollowOptions,
  getJob: (queue: Queue) => Promise<Job>,
): Promise<unknown> {
  // helm.actions by default; `helm ask` sends to helm.requests the same way.
  const queueName = opts.queue ?? QUEUE.actions;
  // Reconnecting stops once the command is done: BullMQ reconnects a client it was handed while it
  // closes, and a client that retries forever keeps the process alive.
  let done = false;
  const retryStrategy = (attempt: number) => (done ? null : Math.min(attempt * 200, 2000));
  const connection = new Redis(config.redisUrl, {
    maxRetriesPerRequest: null,
    connectionName: 'helm-cli',
    retryStrategy,
  });
  const eventsConnection = connection.duplicate();
  // skipMetasUpdate: a client must not rewrite the bus's settings (the events-stream bound).
  const queue = new Queue(queueName, { connection, prefix: config.queuePrefix, skipMetasUpdate: true });
  const events = new QueueEvents(queueName, { connection: eventsConnection, prefix: config.queuePrefix });
  // Without listeners every failed reconnect is printed; the last error explains a timeout.
  let redisError: Error | null = null;
  const remember = (err: Error) => {
    redisError = err;
  };
  connection.on('error', remember);
  eventsConnection.on('error', remember);
  queue.on('error', remember);
  events.on('error', remember);
  let jobId: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  // The whole wait is bounded, Redis included: with Redis down a blocking connection waits forever.
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const seconds = Math.round(opts.timeoutMs / 1000);
      reject(
        new RequestTimeoutError(
          redisError
            ? `no final result within ${seconds} s: Redis at ${redactUrl(config.redisUrl)} does not answer (${redisError.message})`
            : jobId
              ? `no final result within ${seconds} s: job ${jobId} is still on ${queueName} (is Helm running? \`helm doctor\` says)`
              : `no final result within ${seconds} s: the request could not be added to ${queueName}`,
        ),
      );
    }, opts.timeoutMs);
  });
  try {
    return await Promise.race([
      deadline,
      (async () => {
        await events.waitUntilReady();
        const job = await getJob(queue);
        jobId = job.id;
        if (opts.onProgress) {
          events.on('progress', ({ jobId: id, data }) => {
            if (id === job.id) opts.onProgress?.(data);
          });
        }
        // The deadline above is the one bound; BullMQ's own would only race it.
        return await job.waitUntilFinished(events);
      })(),
    ]);
  } finally {
    clearTimeout(timer);
    done = true;
    // Bounded: with Redis gone, closing must not wait for it.
    const closed = Promise.allSettled([events.close(), queue.close()]);
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    // BullMQ leaves a client it was handed open: this command's own are closed here.
    connection.disconnect();
    eventsConnection.disconnect();
  }
}
