import { Queue, QueueEvents } from 'bullmq';
import type { Config } from '../config/config.js';
import { QUEUE } from '../bus/queue-names.js';
import { makeBlockingConnection } from '../bus/redis-connection.js';

/**
 * `helm request <action> <target>`: the owner's CLI as a bus client, exactly as Forge would be one:
 * add an ActionRequest to helm.actions and follow it to its final result.
 */
export async function sendRequest(
  config: Readonly<Config>,
  request: Record<string, unknown>,
  opts: { timeoutMs: number; onProgress?: (p: unknown) => void },
): Promise<unknown> {
  const connection = makeBlockingConnection(config.redisUrl, 'helm-cli');
  // skipMetasUpdate: a client must not rewrite the bus's settings (the events-stream bound).
  const queue = new Queue(QUEUE.actions, { connection, prefix: config.queuePrefix, skipMetasUpdate: true });
  const events = new QueueEvents(QUEUE.actions, {
    connection: connection.duplicate(),
    prefix: config.queuePrefix,
  });
  try {
    await events.waitUntilReady();
    const job = await queue.add(String(request.action), request);
    if (opts.onProgress) {
      events.on('progress', ({ jobId, data }) => {
        if (jobId === job.id) opts.onProgress?.(data);
      });
    }
    return await job.waitUntilFinished(events, opts.timeoutMs);
  } finally {
    await events.close();
    await queue.close();
    connection.disconnect();
  }
}
