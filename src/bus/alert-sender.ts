import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Clock } from '../base/clock.js';
import type { Alert } from '../contracts/index.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redactor.js';

export type AlertInput = Omit<Alert, 'alert_id' | 'at'>;

export interface AlertSender {
  /** Sends to sentinel.alerts; resolves to the alert sent, or null if Redis refused it (logged). */
  send(input: AlertInput): Promise<Alert | null>;
}

/** Helm's own sender (makeAlertSender): one that also tells who listens what it sent. */
export interface ObservedAlertSender extends AlertSender {
  /**
   * Calls `listener` with every alert once it is on sentinel.alerts (the advisor's diagnosis follows
   * an incident's alert, never precedes it). Listeners must return at once; a throw is logged.
   */
  onSent(listener: (alert: Alert) => void): void;
}

export interface AlertSenderDeps {
  queue: Queue;
  clock: Clock;
  redactor: Redactor;
  logger: Logger;
  retention: { age: number; count: number };
  /** This host's id, on every alert sent unless the input names a host (contract 1.5). */
  host?: string;
}

export function makeAlertSender(deps: AlertSenderDeps): ObservedAlertSender {
  const listeners: Array<(alert: Alert) => void> = [];
  const tell = (alert: Alert) => {
    for (const listener of listeners) {
      try {
        listener(alert);
      } catch (err) {
        deps.logger.error({ err }, 'an alert listener failed');
      }
    }
  };
  return {
    onSent(listener) {
      listeners.push(listener);
    },
    async send(input) {
      const alert: Alert = deps.redactor.redactDeep({
        alert_id: randomUUID(),
        at: deps.clock.now().toISOString(),
        ...(deps.host ? { host: deps.host } : {}),
        ...dropUndefined(input),
      });
      try {
        await deps.queue.add(alert.kind, alert, {
          jobId: alert.alert_id,
          removeOnComplete: deps.retention,
          removeOnFail: deps.retention,
        });
        deps.logger.info(
          { alert: { kind: alert.kind, severity: alert.severity, dedup_key: alert.dedup_key } },
          'alert sent',
        );
        tell(alert);
        return alert;
      } catch (err) {
        // An alert that cannot be queued must not take the request down with it: log it loudly.
        deps.logger.error({ err, alert }, 'could not send alert to sentinel.alerts');
        return null;
      }
    },
  };
}

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
