import { planHash } from '../approval/index.js';
import type { ActionResult, Plan } from '../contracts/index.js';
import { observeAndPlan, type Seen } from '../observe/observe-and-plan.js';
import { policyInputOf } from '../plan/build-plan.js';
import { decide, type Policy } from '../policy/policy.js';
import { publishStatus } from '../results/publish-status.js';
import { failedResult, resultWithStatus } from '../results/result-builder.js';
import { finish, finishFailed } from './finish-request.js';
import type { GateDeps, HeldRequest } from './gate-deps.js';
import { handToExecutor } from './hand-to-executor.js';
import { parkForWarden } from './park-for-warden.js';
import { refusalBeforePlanning } from './refuse-before-planning.js';

/**
 * A new request's path through the gate, in order:
 *  1. look: observe the target and build the plan (observe-and-plan.ts), with the gate's own
 *     refusals before the plan reads any secret (refuse-before-planning.ts);
 *  2. decide: the policy says deny, needs approval, or auto;
 *  3. deny ends it; needs approval parks it for Warden (park-for-warden.ts); auto hands it to the
 *     executor (hand-to-executor.ts).
 */
export async function startRequest(deps: GateDeps, held: HeldRequest): Promise<ActionResult> {
  const policy = deps.policy();
  const looked = await look(deps, held, policy);
  if (!looked.ok) return looked.result;
  const { seen, plan } = looked;
  const hashed = { plan, hash: planHash(plan) };
  const verdict = decide(policyInputOf(plan), policy);
  if (verdict.decision === 'deny')
    return finishFailed(deps, held, 'denied', `${verdict.reason}; nothing was changed`);
  if (verdict.decision === 'needs_approval')
    return parkForWarden(deps, held, hashed, {
      reason: verdict.reason,
      waitMs: policy.approvalDeadlineS * 1000,
      seen,
    });
  await publishStatus(
    deps,
    held.job,
    resultWithStatus(held.subject, deps.clock.now(), 'approved', `no approval needed: ${verdict.reason}`),
    { event: 'approved', final: false },
  );
  return handToExecutor(deps, held, hashed, null);
}

/** Step 1: what the target is and the plan; or the request's final result when it ends here. */
async function look(
  deps: GateDeps,
  held: HeldRequest,
  policy: Policy,
): Promise<{ ok: true; seen: Seen; plan: Plan } | { ok: false; result: ActionResult }> {
  const { request, subject } = held;
  const observed = await observeAndPlan(deps, {
    request,
    target: request.target,
    host: deps.host,
    classification: policy.classify,
    beforePlanning: (seen) => refusalBeforePlanning(deps, held, seen),
  });
  if (observed.ok) return observed;
  if (observed.stage === 'observe') {
    const { code, message, data } = observed.unseen;
    const unseen = failedResult(subject, deps.clock.now(), code, message, data ? { data } : {});
    return { ok: false, result: await finish(deps, held.job, unseen) };
  }
  if (observed.stage === 'check') return { ok: false, result: observed.refusal };
  const err = observed.error;
  return {
    ok: false,
    result: await finishFailed(deps, held, err.code, `${err.message}; nothing was changed`),
  };
}
