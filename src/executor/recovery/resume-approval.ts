import { type Keyring, planHash, verifyDecisionText } from '../../approval/index.js';
import { parseRfc3339Utc } from '../../contracts/index.js';
import type { ExecResult, SignedExecJob } from '../../exec-job/exec-job.js';
import type { Intent } from '../../intents/intent-store.js';
import type { ApprovalLedger } from '../../runlog/approval-ledger.js';

/**
 * Whether an interrupted request that changed nothing may run again (after-crash-decision.ts,
 * `resume`). Its first run already passed every check and wrote its `executing` entry, which marks
 * its approval as started: the normal check would (rightly) refuse it as used. A resume is that same
 * use, so instead it must show that it is exactly the run that began:
 *  - the genuine exec job (its MAC was checked) is the intent's job, and its plan hashes to the plan
 *    the intent ran;
 *  - a change that needs approval carries the intent's own approval: a signed approval of this very
 *    plan hash, consumed for this request job, started (by this op: its intent says so), not expired.
 *    An approval that expired while Helm was down does not start the change after all: nothing had
 *    changed, so the request ends `approval_expired`, nothing changed.
 * null: it may resume. The plan is then made again on what runs now and must hash to the signed
 * one, as at the first start (run-exec-job.ts), so a target that changed meanwhile is `stale_plan`.
 */
export function resumeRefusal(
  deps: {
    keyring(): Keyring;
    ledger: Pick<ApprovalLedger, 'consumedFor' | 'hasStarted'>;
    now: Date;
    skewMs: number;
    needsApproval: boolean;
  },
  data: SignedExecJob,
  intent: Intent,
): ExecResult | null {
  const refuse = (code: 'denied' | 'approval_expired' | 'stale_plan', why: string): ExecResult => ({
    ok: false,
    code,
    message: `Helm stopped before changing anything and cannot resume the request: ${why}; nothing was changed`,
  });
  if (intent.job_id !== data.parent_job_id) return refuse('denied', 'its intent belongs to another request');
  if (planHash(data.plan) !== intent.plan_hash || data.plan_hash !== intent.plan_hash)
    return refuse('stale_plan', 'the job’s plan is not the plan the operation began');
  if (intent.approval_id === null)
    return deps.needsApproval ? refuse('denied', 'it needs Warden’s approval and began without one') : null;
  if (!data.decision_json) return refuse('denied', 'its approval is not on the job');
  const verdict = verifyDecisionText(data.decision_json, deps.keyring());
  if (!verdict.ok) return refuse('denied', `the decision does not verify (${verdict.reason})`);
  const d = verdict.decision;
  if (d.decision !== 'approved' || d.approval_id !== intent.approval_id || d.plan_hash !== intent.plan_hash)
    return refuse(
      'denied',
      'the decision on the job is not the approval of this plan the operation began with',
    );
  if (deps.ledger.consumedFor(d.approval_id) !== data.parent_job_id)
    return refuse('denied', `the run log does not show approval ${d.approval_id} consumed for this request`);
  if (!deps.ledger.hasStarted(d.approval_id))
    return refuse('denied', `the run log does not show approval ${d.approval_id} starting this change`);
  const expires = parseRfc3339Utc(d.expires_at);
  if (expires === null || deps.now.getTime() >= expires + deps.skewMs)
    return refuse('approval_expired', `its approval expired at ${d.expires_at} while Helm was down`);
  return null;
}
