import { planHash, verifyDecisionText } from '../approval/index.js';
import { type ApprovalDecision, parseRfc3339Utc, type Plan } from '../contracts/index.js';
import type { SignedExecJob } from '../exec-job/exec-job.js';
import { policyInputOf } from '../plan/build-plan.js';
import { decide } from '../policy/policy.js';

import type { ExecDeps } from './exec-deps.js';

/** The signed decision a change needs, checked again by the executor before its first change. */

export type ApprovalCheck =
  | { ok: true; approvalId: string | null }
  | { ok: false; code: 'stale_plan' | 'denied'; message: string };

/** Whether the policy gates this plan (read from the plan itself, as the gate reads it). */
export function needsApproval(deps: ExecDeps, plan: Plan): boolean {
  return decide(policyInputOf(plan), deps.policy()).decision !== 'auto';
}

export function checkApproval(deps: ExecDeps, data: SignedExecJob): ApprovalCheck {
  const plan = data.plan;
  const needs = needsApproval(deps, plan);
  if (planHash(plan) !== data.plan_hash)
    return { ok: false, code: 'stale_plan', message: 'the job’s plan does not hash to its plan_hash' };
  if (!data.decision_json) {
    return needs
      ? {
          ok: false,
          code: 'denied',
          message: `${plan.action} in ${plan.environment} needs Warden’s approval and none came with it`,
        }
      : { ok: true, approvalId: null };
  }
  const verdict = verifyDecisionText(data.decision_json, deps.keyring());
  if (!verdict.ok)
    return { ok: false, code: 'denied', message: `the decision does not verify (${verdict.reason})` };
  const d: ApprovalDecision = verdict.decision;
  if (d.decision !== 'approved')
    return { ok: false, code: 'denied', message: 'the decision is not an approval' };
  if (d.plan_hash !== data.plan_hash)
    return { ok: false, code: 'stale_plan', message: 'the decision signs another plan' };
  const expires = parseRfc3339Utc(d.expires_at);
  // Expiry gates the start only: once begun, recovery may finish (see intents).
  if (expires === null || deps.clock.now().getTime() >= expires + deps.skewMs)
    return { ok: false, code: 'denied', message: `the approval expired at ${d.expires_at}` };
  if (deps.ledger.consumedFor(d.approval_id) !== data.parent_job_id) {
    return {
      ok: false,
      code: 'denied',
      message: `the run log does not show approval ${d.approval_id} consumed for request job ${data.parent_job_id}`,
    };
  }
  if (deps.ledger.hasStarted(d.approval_id))
    return {
      ok: false,
      code: 'denied',
      message: `approval ${d.approval_id} already started a change: it is never used twice`,
    };
  return { ok: true, approvalId: d.approval_id };
}
