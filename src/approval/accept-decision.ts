// The stateful half of accepting a decision, as a pure function of the verdict and what the gate
// knows. Default is no: only a verified decision for the parked approval, over the parked plan,
// before its expiry, and not already consumed is accepted. Everything else is sorted into "info"
// (nothing wrong, nothing to do) or "security" (someone sent what Warden would not).
import type { ApprovalDecision } from '../contracts/approval-decision.js';
import { parseRfc3339Utc } from '../contracts/rfc3339.js';
import type { DecisionVerdict } from './verify-decision.js';

export const DEFAULT_CLOCK_SKEW_MS = 30_000;

export interface ParkedApproval {
  approval_id: string;
  plan_hash: string;
}

export type Acceptance =
  | { outcome: 'accept'; decision: ApprovalDecision }
  | { outcome: 'info'; reason: 'late' | 'ended' | 'repeat'; detail: string }
  | {
      outcome: 'security';
      reason: 'plan_mismatch' | 'bad_signature' | 'unknown_key' | 'malformed';
      detail: string;
    };

export interface AcceptInput {
  verdict: DecisionVerdict;
  /** The request parked under the decision's approval_id, or null when none is (it ended or never was). */
  parked: ParkedApproval | null;
  /** True when a decision for this approval_id was already consumed: the first valid decision wins. */
  alreadyConsumed?: boolean;
  /** Current time, epoch milliseconds or a Date. */
  now: number | Date;
  /** Clock skew tolerated past expires_at, in ms (default 30 s). */
  skewMs?: number;
}

export function acceptDecision({
  verdict,
  parked,
  alreadyConsumed = false,
  now,
  skewMs = DEFAULT_CLOCK_SKEW_MS,
}: AcceptInput): Acceptance {
  if (!verdict.ok) return { outcome: 'security', reason: verdict.reason, detail: verdict.detail };
  const { decision } = verdict;
  if (alreadyConsumed) {
    return {
      outcome: 'info',
      reason: 'repeat',
      detail: `approval ${decision.approval_id} was already decided`,
    };
  }
  if (parked === null || parked.approval_id !== decision.approval_id) {
    return {
      outcome: 'info',
      reason: 'ended',
      detail: `approval ${decision.approval_id} is not parked (ended or unknown)`,
    };
  }
  if (parked.plan_hash !== decision.plan_hash) {
    return {
      outcome: 'security',
      reason: 'plan_mismatch',
      detail: `decision for approval ${decision.approval_id} signs plan ${decision.plan_hash}, parked plan is ${parked.plan_hash}`,
    };
  }
  const expiresAt = parseRfc3339Utc(decision.expires_at);
  const nowMs = typeof now === 'number' ? now : now.getTime();
  // A verified decision always has a valid expires_at; a null here would be a bug, and the answer is no.
  if (expiresAt === null || !(nowMs < expiresAt + skewMs)) {
    return {
      outcome: 'info',
      reason: 'late',
      detail: `decision expired at ${decision.expires_at} (clock skew allowed: ${skewMs} ms)`,
    };
  }
  return { outcome: 'accept', decision };
}
