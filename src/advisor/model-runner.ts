// The ports the advisor's runners use, so the advisor stays pure (no adapter, logger or bus import):
// the model fallback chain (src/models/model-call.ts ModelChain satisfies ModelRunner), a log with
// pino's call shape, and the alert to send (sentinel.alerts adds alert_id and at).
import type { Alert } from '../contracts/index.js';
import type { ModelClient } from './model-client.js';

export interface ModelAttempt {
  client: ModelClient;
  escalated: boolean;
}

export interface ModelFailureInfo {
  model: string;
  kind: string;
  message: string;
}

export type ModelRunOutcome<T> =
  | { model: string; escalated: boolean; fellBack: ModelFailureInfo | null; value: T; note: string }
  | { model: null; tried: ModelFailureInfo[]; note: string };

export interface ModelRunner {
  run<T>(escalate: boolean, attempt: (a: ModelAttempt) => Promise<T>): Promise<ModelRunOutcome<T>>;
}

export interface AdvisorLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

export type AlertToSend = Omit<Alert, 'alert_id' | 'at'>;

/** The dedup_key of the advisor's own degraded alert. */
export const ADVISOR_DEGRADED_KEY = 'helm_degraded:advisor';

/**
 * ModelChain's degraded signals as alerts: `helm_degraded:advisor` once when no model answers, and
 * `resolved` when one answers again (ModelChain itself makes sure each is raised once).
 */
export function advisorHealthAlerts(send: (alert: AlertToSend) => unknown): {
  onDegraded: (event: { note: string }) => void;
  onResolved: (event: { model: string }) => void;
} {
  return {
    onDegraded: ({ note }) =>
      void send({
        severity: 'warning',
        kind: 'helm_degraded',
        message: `The advisor has no model answering; diagnoses are Helm's evidence summary alone. ${note}`,
        dedup_key: ADVISOR_DEGRADED_KEY,
      }),
    onResolved: ({ model }) =>
      void send({
        severity: 'info',
        kind: 'resolved',
        message: `The advisor's model ${model} answers again.`,
        dedup_key: ADVISOR_DEGRADED_KEY,
      }),
  };
}

/**
 * Work that must never hold up its caller (an alert, a parked request): started and forgotten, its
 * failure logged, never thrown. idle() waits for everything started so far (tests, shutdown).
 */
export function backgroundWork(log: AdvisorLog): {
  start(what: string, fields: object, work: () => Promise<unknown>): void;
  idle(): Promise<void>;
} {
  const pending = new Set<Promise<unknown>>();
  return {
    start(what, fields, work) {
      const run = Promise.resolve()
        .then(work)
        .catch((err: unknown) =>
          log.error(
            { ...fields, err: err instanceof Error ? err.message : String(err) },
            `advisor: ${what} failed`,
          ),
        );
      pending.add(run);
      void run.finally(() => pending.delete(run));
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
