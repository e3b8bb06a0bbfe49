import { type ActionResult, ENVIRONMENTS, type Environment, TARGET_PATTERN } from '../contracts/index.js';
import { escapeText } from '../contracts/escape-text.js';
import type { Metrics } from '../base/metrics.js';
import type { AlertSender } from '../bus/alert-sender.js';
import type { RequestRecords } from '../bus/request-records.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redactor.js';
import type { RunLog } from '../runlog/index.js';

/**
 * Every status change of a request goes through here, in this order: the run-log entry on disk,
 * then the request_id record, the job's progress, and for a final status the `action_result` alert.
 * The order is the promise: nothing is published about a request before it is logged.
 */
export interface StatusSinks {
  runLog: RunLog;
  records: RequestRecords;
  alerts: AlertSender;
  redactor: Redactor;
  logger: Logger;
  /** Counts each final result (by action, environment, status); absent: nothing counted. */
  metrics?: Pick<Metrics, 'requestFinished'>;
  /** This host's id, stamped on every result published (contract 1.5); absent: not stamped. */
  host?: string;
}

export interface ProgressTarget {
  id?: string;
  updateProgress(progress: object): Promise<void>;
}

export type RunLogEvent =
  | 'received'
  | 'rejected'
  | 'duplicate'
  | 'pending_approval'
  | 'approved'
  | 'denied'
  | 'expired'
  | 'executing'
  | 'executed'
  | 'failed'
  | 'rolled_back';

/** Which request a run-log entry is about. */
export interface RequestRef {
  job_id: string;
  request_id: string | null;
  action: string | null;
  target: string | null;
  environment: string | null;
  approval_id?: string | null;
}

/** Appends the run-log entry for a request's state change; true once it is on disk. */
export async function logRequestEvent(
  sinks: StatusSinks,
  event: RunLogEvent,
  r: RequestRef,
  message: string,
  code: string | null = null,
): Promise<boolean> {
  try {
    await sinks.runLog.append({
      event,
      job_id: r.job_id,
      request_id: r.request_id,
      action: r.action,
      target: r.target,
      environment: r.environment,
      approval_id: r.approval_id ?? null,
      code,
      message: sinks.redactor.redact(message),
    });
    return true;
  } catch (err) {
    sinks.logger.error({ err, event, job_id: r.job_id }, 'run log entry could not be written');
    return false;
  }
}

export async function publishStatus(
  sinks: StatusSinks,
  job: ProgressTarget,
  result: ActionResult,
  /** event null: the state change is already in the run log (e.g. a consumed approval). */
  opts: { event: RunLogEvent | null; final: boolean },
): Promise<ActionResult> {
  const code = (result.error?.code as string | undefined) ?? null;
  const logged =
    opts.event === null || (await logRequestEvent(sinks, opts.event, result, result.outcome, code));
  const stamped = sinks.host ? { ...result, host: sinks.host } : result;
  const published = sinks.redactor.redactDeep({ ...stamped, logged }) as ActionResult;
  const json = JSON.stringify(published);
  if (published.request_id) await sinks.records.updateResult(published.request_id, published.job_id, json);
  if (opts.final) await sinks.records.markFinal(published.job_id);
  await job.updateProgress(published);
  if (opts.final) await sendActionResultAlert(sinks.alerts, published);
  if (opts.final)
    sinks.metrics?.requestFinished({
      action: published.action,
      environment: published.environment,
      status: published.status,
      code,
    });
  return published;
}

export async function sendActionResultAlert(alerts: AlertSender, r: ActionResult): Promise<void> {
  await alerts.send({
    severity: r.status === 'failed' ? 'warning' : 'info',
    kind: 'action_result',
    ...(r.target !== null && TARGET_PATTERN.test(r.target) ? { target: r.target } : {}),
    // An invalid request may echo any string as its environment; an alert names only real ones.
    ...(isEnvironment(r.environment) ? { environment: r.environment } : {}),
    // Action and target are echoed as submitted (an invalid request's may hold anything): escaped
    // here as in every sink, while details.result keeps the echo itself.
    message:
      `${escapeText(String(r.action ?? 'request'), 'terminal')} ${escapeText(r.target ?? '', 'terminal')}: ${r.status}: ${r.outcome}`
        .replace(/\s+/g, ' ')
        .slice(0, 2000),
    details: { result: r },
    dedup_key: `action_result:${r.job_id}`,
  });
}

function isEnvironment(v: unknown): v is Environment {
  return (ENVIRONMENTS as readonly unknown[]).includes(v);
}
