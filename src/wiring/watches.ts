import { QueueEvents } from 'bullmq';
import { startHeartbeat } from '../bus/heartbeat.js';
import { QUEUE, workerQueues } from '../bus/queue-names.js';
import { startQueueWatch } from '../bus/queue-watch.js';
import { makeBlockingConnection } from '../bus/redis-connection.js';
import { HELM_VERSION } from '../base/version.js';
import { watchBullmqFailures } from '../intake/bullmq-failures.js';
import type { HelmParts } from './parts.js';

/**
 * Jobs BullMQ itself failed on helm.actions (stalled too often, …) get a final result: those that
 * failed while Helm was away at once, the others as BullMQ reports them.
 */
export async function watchActionFailures(p: HelmParts): Promise<void> {
  const { config, clock, logger } = p;
  const eventsConnection = makeBlockingConnection(config.redisUrl, `helm-events-${config.instance}`);
  const actionEvents = new QueueEvents(QUEUE.actions, {
    connection: eventsConnection,
    prefix: config.queuePrefix,
  });
  p.onClose(async () => {
    await actionEvents.close();
    eventsConnection.disconnect();
  });
  const failures = watchBullmqFailures({
    queue: p.queues.actions,
    events: actionEvents,
    sinks: p.sinks,
    clock,
    logger,
  });
  const swept = await failures.sweep();
  if (swept > 0) logger.warn({ swept }, 'wrote final results for jobs BullMQ failed while Helm was away');
}

/** This process's heartbeat (CONTRACT.md): its instance, version and the queues it consumes. */
export function startOwnHeartbeat(p: HelmParts): void {
  const { config } = p;
  const heartbeat = startHeartbeat({
    redis: p.redis,
    prefix: config.queuePrefix,
    instance: config.instance,
    host: config.host,
    version: HELM_VERSION,
    workers: config.workers.flatMap((w) => workerQueues(w, config.host)),
    clock: p.clock,
    logger: p.logger,
    intervalMs: config.heartbeatIntervalMs,
  });
  p.onClose(() => heartbeat.stop());
}

/** The queues other agents consume (warden.requests, sentinel.alerts): an absent consumer, a growing backlog. */
export function watchOtherAgentsQueues(p: HelmParts): void {
  const watch = startQueueWatch({
    queues: p.queues.watched,
    redis: p.redis,
    prefix: p.config.queuePrefix,
    clock: p.clock,
    logger: p.logger,
    alerts: p.alerts,
    intervalMs: p.config.queueWatchIntervalMs,
  });
  p.onClose(() => watch.stop());
}
