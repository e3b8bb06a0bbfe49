import type { Redis } from 'ioredis';
import { type RunningWorker, makeWorker } from '../src/bus/start-worker.js';
import type { WatcherLogger } from '../src/monitor/event-watcher.js';
import { type HealthPings, PINGS_QUEUE, pingsPrefix } from '../src/monitor/pings.js';

export interface PingsWorkerDeps {
  /** A blocking connection of the monitor's own (the monitor disconnects it). */
  blockingConnection: Redis;
  /** The bus's queue prefix (config.queuePrefix); the host's pings live under pingsPrefix(prefix, host). */
  prefix: string;
  host: string;
  pings: Pick<HealthPings, 'ping'>;
  logger: WatcherLogger;
}

/**
 * helm.pings (private, one per host; its schedulers are src/monitor/pings.ts's). A job's steps:
 *   1. a job of another host or without a service is not this monitor's: done;
 *   2. ping that service's running containers (lookAtContainer), count failures in a row, and hand a
 *      verdict that changed to the event watcher, whose state machine alerts and logs.
 * Pings change nothing and are not requests: no result, the job is removed once done.
 */
export function startPingsWorker(deps: PingsWorkerDeps): RunningWorker {
  const worker = makeWorker(
    PINGS_QUEUE,
    async (job) => {
      const data = job.data as { host?: string; service?: string };
      if (data.host !== deps.host || typeof data.service !== 'string') return;
      await deps.pings.ping(data.service);
    },
    { connection: deps.blockingConnection, prefix: pingsPrefix(deps.prefix, deps.host), concurrency: 8 },
  );
  worker.on('error', (err) => deps.logger.warn({ err }, 'monitor: the health-ping worker failed'));
  worker.on('failed', (job, err) =>
    deps.logger.warn({ err, service: job?.data?.service }, 'monitor: a health ping failed'),
  );
  return { worker, close: () => worker.close() };
}
