import type { ActionOutcome } from '../actions/action-types.js';
import type { LogLine } from '../docker/logs-demux.js';
import type { ExecContext } from './exec-context.js';
import { healthWords } from './outcome-words.js';

/**
 * The answer of a deploy, rollback or set_env whose new release failed: rolled back (the previous
 * release runs again and is healthy) or rollback_failed, with the failed container's last log lines.
 * Plain and compose services, every such operation, word it the same way; secrets are redacted.
 */
export interface FailedRelease {
  restored: boolean;
  message: string;
  failedRelease: string;
  /** The release that runs again; only reported when it was restored. */
  restoredRelease: string | null;
  failure: string;
  failedReplica: string | null;
  lastLogs: LogLine[];
  ms: number;
  extra?: Record<string, unknown>;
}

export function failedReleaseOutcome(ctx: Pick<ExecContext, 'redactor'>, f: FailedRelease): ActionOutcome {
  return {
    ok: false,
    code: f.restored ? 'rolled_back' : 'rollback_failed',
    message: ctx.redactor.redact(f.message),
    data: {
      failed_release: f.failedRelease,
      restored_release: f.restored ? f.restoredRelease : null,
      reason: ctx.redactor.redact(f.failure),
      failed_replica: f.failedReplica,
      last_logs: f.lastLogs,
      ...f.extra,
      ms: f.ms,
    },
  };
}

/** "Rolled back: r2 runs again and is healthy (HTTP 200)", or why rolling back to r2 failed. */
export function rolledBackWords(restored: boolean, previous: string, detail: string): string {
  return restored
    ? `Rolled back: ${previous} runs again and is healthy (${healthWords(detail)})`
    : `Rolling back to ${previous} failed: ${detail}`;
}
