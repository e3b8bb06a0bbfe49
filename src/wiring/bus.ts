import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock } from '../base/clock.js';
import type { Metrics } from '../base/metrics.js';
import { makeAlertSender, type ObservedAlertSender } from '../bus/alert-sender.js';
import { approvalsQueueName, execQueueName, QUEUE, WATCHED_QUEUES } from '../bus/queue-names.js';
import { makeCommandConnection } from '../bus/redis-connection.js';
import { judgeDurability, readRedisDurability } from '../bus/redis-durability.js';
import { makeRequestRecords } from '../bus/request-records.js';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redactor.js';
import type { StatusSinks } from '../results/publish-status.js';
import type { RunLog } from '../runlog/index.js';
import type { BusQueues, HelmParts } from './parts.js';
import { StartupError } from './startup-error.js';

/** Helm's command connection, once Redis is found durable enough (or the owner allowed a volatile one). */
export async function openRedis(
  config: Readonly<Config>,
  logger: Logger,
  onClose: HelmParts['onClose'],
): Promise<Redis> {
  const redis = makeCommandConnection(config.redisUrl, `helm-${config.instance}`);
  onClose(() => redis.disconnect());
  const durability = judgeDurability(await readRedisDurability(redis), config.allowVolatileRedis);
  if (!durability.ok) throw new StartupError(durability.problems);
  for (const w of durability.warnings) logger.warn(w);
  return redis;
}

/** The queues this process sends to, on Helm's command connection; closed at shutdown. */
export function openBusQueues(
  config: Readonly<Config>,
  redis: Redis,
  onClose: HelmParts['onClose'],
): BusQueues {
  const queueOpts = {
    connection: redis,
    prefix: config.queuePrefix,
    streams: { events: { maxLen: config.eventsMaxLen } },
  };
  const actions = new Queue(QUEUE.actions, queueOpts);
  const alerts = new Queue(QUEUE.alerts, queueOpts);
  const watched = WATCHED_QUEUES.map((name) => (name === QUEUE.alerts ? alerts : new Queue(name, queueOpts)));
  // This host's executors' queue (contract 1.5): the gate hands plans for this host to it.
  const exec = new Queue(execQueueName(config.host), queueOpts);
  // Other hosts' internal queues (contract 1.5), each opened once when first used.
  const perHost = new Map<string, Queue>([[exec.name, exec]]);
  const queueFor = (name: string): Queue => {
    let q = perHost.get(name);
    if (!q) {
      q = new Queue(name, queueOpts);
      perHost.set(name, q);
    }
    return q;
  };
  onClose(async () => {
    await Promise.all([actions, ...perHost.values(), ...new Set([alerts, ...watched])].map((q) => q.close()));
  });
  return {
    actions,
    alerts,
    watched,
    wardenRequests: watched.find((q) => q.name === QUEUE.wardenRequests)!,
    exec,
    execFor: (host) => queueFor(execQueueName(host)),
    approvalsFor: (host) => queueFor(approvalsQueueName(host)),
  };
}

/** Where results and alerts go: the run log, the request records, sentinel.alerts, the process log. */
export function makeSinks(
  config: Readonly<Config>,
  parts: {
    redis: Redis;
    queues: BusQueues;
    runLog: RunLog;
    clock: Clock;
    redactor: Redactor;
    logger: Logger;
    metrics?: Metrics | null;
  },
): { alerts: ObservedAlertSender; sinks: StatusSinks } {
  const { redis, runLog, clock, redactor, logger, metrics } = parts;
  const alerts = makeAlertSender({
    queue: parts.queues.alerts,
    clock,
    redactor,
    logger,
    retention: { age: config.requestIdWindowS, count: config.jobRetentionCount },
    host: config.host,
  });
  const records = makeRequestRecords(redis, config.queuePrefix, config.requestIdWindowS);
  const sinks: StatusSinks = {
    runLog,
    records,
    alerts,
    redactor,
    logger,
    host: config.host,
    ...(metrics ? { metrics } : {}),
  };
  return { alerts, sinks };
}
