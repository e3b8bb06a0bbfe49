import type { RunLogEntry } from './index.js';

/**
 * What the run log says about approvals, kept in memory: which approval was consumed for which
 * request (job), and which approvals have already started a change. The executor checks this, not
 * only Redis, before every production change: a Redis that lost its data (or a replayed job) can
 * never make Helm run one approval twice. Fed at start-up from the run-log files (entries younger
 * than the longest deadline plus the clock skew suffice) and then by each append of this process.
 */
export interface ApprovalLedger {
  /** The helm.actions job an approval was consumed for, or null. */
  consumedFor(approvalId: string): string | null;
  hasStarted(approvalId: string): boolean;
  note(entry: Pick<RunLogEntry, 'event' | 'approval_id' | 'job_id'>): void;
  /** Reads what other Helm processes on this host appended since the last look (run-log-ledger.ts). */
  refresh?(): Promise<void>;
  readonly size: number;
}

/** Run-log events that consume an approval, and the one that marks its change as begun. */
export const CONSUMING_EVENTS = new Set(['approved', 'denied']);
export const STARTING_EVENT = 'executing';

export function makeApprovalLedger(
  entries: Iterable<Pick<RunLogEntry, 'event' | 'approval_id' | 'job_id'>> = [],
): ApprovalLedger {
  const consumed = new Map<string, string>();
  const started = new Set<string>();
  const note: ApprovalLedger['note'] = (e) => {
    if (!e.approval_id) return;
    if (CONSUMING_EVENTS.has(e.event) && e.job_id && !consumed.has(e.approval_id))
      consumed.set(e.approval_id, e.job_id);
    if (e.event === STARTING_EVENT) started.add(e.approval_id);
  };
  for (const e of entries) note(e);
  return {
    consumedFor: (id) => consumed.get(id) ?? null,
    hasStarted: (id) => started.has(id),
    note,
    get size() {
      return consumed.size;
    },
  };
}

/** Entries old enough that no decision they record can still start a change are skipped. */
export function recentEntries<T extends Pick<RunLogEntry, 'at'>>(
  entries: Iterable<T>,
  now: Date,
  horizonMs: number,
): T[] {
  const since = now.getTime() - horizonMs;
  return [...entries].filter((e) => Date.parse(e.at) >= since);
}
