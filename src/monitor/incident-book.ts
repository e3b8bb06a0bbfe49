import type { AlertInput } from '../bus/alert-sender.js';
import type { Incident } from '../bus/incident-board.js';

/**
 * Which of the monitor's alerts open, update and close an incident (pure; time comes in with each
 * call). The monitor's decisions already carry an incident's identity: every alert of one incident
 * shares its dedup_key, and `recovered`/`resolved` carry the key of the incident they end
 * (monitor-alerts.ts, alert-hygiene.ts, resources.ts, container-stats.ts, queue-backlog.ts,
 * watcher-stream.ts). So an incident is open from its first alert of an opening kind to the closing
 * alert with its key. Alerts of other kinds (an owner's stop, a log that grows, a disk clean-up) are
 * facts, not incidents: they never open one.
 */
export const OPENING_KINDS: ReadonlySet<string> = new Set([
  'downtime',
  'unhealthy',
  'crash_loop',
  'cpu_high',
  'memory_high',
  'disk_high',
  'helm_degraded',
]);
const CLOSING_KINDS: ReadonlySet<string> = new Set(['recovered', 'resolved']);

export interface IncidentBookState {
  /** Open incidents by key, in the order they opened. */
  open: ReadonlyMap<string, Incident>;
  /** Closed incidents, newest first, at most `closedKept`. */
  closed: readonly Incident[];
}

export const EMPTY_INCIDENT_BOOK: IncidentBookState = { open: new Map(), closed: [] };

/** How many closed incidents the page shows. */
export const CLOSED_KEPT = 20;

/** The book after one alert, and whether it changed. */
export function recordAlert(
  book: IncidentBookState,
  alert: AlertInput,
  at: Date,
  closedKept = CLOSED_KEPT,
): { book: IncidentBookState; changed: boolean } {
  const now = at.toISOString();
  const key = alert.dedup_key;
  if (CLOSING_KINDS.has(alert.kind)) {
    const was = book.open.get(key);
    if (!was) return { book, changed: false };
    const open = new Map(book.open);
    open.delete(key);
    const closed = { ...was, updated_at: now, closed_at: now, closed_by: alert.message };
    return { book: { open, closed: [closed, ...book.closed].slice(0, closedKept) }, changed: true };
  }
  if (!OPENING_KINDS.has(alert.kind)) return { book, changed: false };
  const was = book.open.get(key);
  const open = new Map(book.open);
  open.set(key, {
    key,
    // An escalation (unhealthy that dies, a crash loop) keeps the key and shows as what it is now.
    kind: alert.kind,
    severity: alert.severity,
    target: alert.target ?? null,
    environment: alert.environment ?? null,
    message: alert.message,
    opened_at: was?.opened_at ?? now,
    updated_at: now,
    closed_at: null,
    closed_by: null,
  });
  return { book: { open, closed: book.closed }, changed: true };
}
