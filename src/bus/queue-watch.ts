import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Clock } from '../base/clock.js';
import type { Logger } from '../log/logger.js';
import type { AlertSender } from './alert-sender.js';
import { judgeQueue, type QueueSample, type QueueVerdict } from './queue-health.js';
import { helmKey } from './queue-names.js';

/**
 * Watches the queues other agents consume. A change of state is logged and alerted (consumer_absent,
 * then resolved); the latest verdicts are kept in Redis for `helm doctor` and the status page.
 */
export interface QueueWatchDeps {
  queues: ReadonlyArray<Queue>;
  redis: Redis;
  prefix: string;
  clock: Clock;
  logger: Logger;
  alerts: AlertSender;
  intervalMs: number;
}

export interface QueueWatchReport {
  at: string;
  queues: Record<string, QueueVerdict & { consumers: number; waiting: number }>;
}

const KEEP_SAMPLES = 10;

export function queueWatchKey(prefix: string): string {
  return helmKey(prefix, 'queue-watch');
}

export function startQueueWatch(deps: QueueWatchDeps): { check(): Promise<QueueWatchReport>; stop(): void } {
  const samples = new Map<string, QueueSample[]>();
  const states = new Map<string, QueueVerdict['state']>();

  async function check(): Promise<QueueWatchReport> {
    const now = deps.clock.now();
    const report: QueueWatchReport = { at: now.toISOString(), queues: {} };
    for (const q of deps.queues) {
      const [consumers, waiting] = await Promise.all([q.getWorkersCount(), q.getWaitingCount()]);
      const list = [...(samples.get(q.name) ?? []), { at: now.getTime(), consumers, waiting }].slice(
        -KEEP_SAMPLES,
      );
      samples.set(q.name, list);
      const verdict = judgeQueue(q.name, list);
      report.queues[q.name] = { ...verdict, consumers, waiting };
      await onVerdict(q.name, verdict, { consumers, waiting });
    }
    await deps.redis.set(
      queueWatchKey(deps.prefix),
      JSON.stringify(report),
      'PX',
      Math.max(deps.intervalMs * 3, 60_000),
    );
    return report;
  }

  async function onVerdict(
    queue: string,
    verdict: QueueVerdict,
    sample: { consumers: number; waiting: number },
  ) {
    const before = states.get(queue) ?? 'ok';
    states.set(queue, verdict.state);
    if (verdict.state === before) return;
    const dedup_key = `consumer_absent:${queue}`;
    if (verdict.state === 'ok') {
      deps.logger.info({ queue, ...sample }, verdict.message);
      await deps.alerts.send({
        severity: 'info',
        kind: 'resolved',
        target: queue,
        message: `${queue} is consumed again: ${verdict.message}`,
        details: sample,
        dedup_key,
      });
      return;
    }
    deps.logger.warn({ queue, ...sample, state: verdict.state }, verdict.message);
    await deps.alerts.send({
      severity: 'warning',
      kind: 'consumer_absent',
      target: queue,
      message: verdict.message,
      details: { state: verdict.state, ...sample },
      dedup_key,
    });
  }

  const tick = () =>
    check().catch((err) => deps.logger.warn({ err }, 'queue watch could not sample the queues'));
  const timer = setInterval(tick, deps.intervalMs);
  timer.unref();
  void tick();
  return { check, stop: () => clearInterval(timer) };
}
