import type { Plan } from '../contracts/index.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { DelayedError, type Job } from 'bullmq';
import type { ActionOutcome } from '../actions/action-types.js';
import { planHash } from '../approval/index.js';
import { type ExecResult, isGenuineExecJob, type SignedExecJob } from '../exec-job/exec-job.js';
import { observeAndPlan } from '../observe/observe-and-plan.js';
import { recoverExecJob } from './recovery/recover-exec-job.js';
import { findIntent } from './recovery/run-recovery.js';

import type { ExecDeps } from './exec-deps.js';
import { withTimeout } from './with-timeout.js';
import { checkApproval, needsApproval } from './exec-approval.js';
import {
  alertFailedRelease,
  refuseForged,
  refuseMisconfigured,
  secretsOutOfScope,
  securityRefusal,
} from './exec-refusals.js';

// The executor's dependencies and the operations it runs are described in exec-deps.ts.
export type { ExecDeps, ExecOperationContext, ExecOperations } from './exec-deps.js';

export function makeExecJobHandler(deps: ExecDeps) {
  return async function runExecJob(job: Job, token?: string): Promise<ExecResult> {
    if (!isGenuineExecJob(job.data, deps.internalKey)) {
      const misconfigured = await deps.explainBadMac?.().catch(() => null);
      if (misconfigured) return refuseMisconfigured(deps, job, misconfigured);
      return refuseForged(deps, job, 'its MAC does not verify: it was not issued by Helm’s gate');
    }
    const data = job.data as SignedExecJob;
    // A genuine job replayed onto the queue on its own has no parent, or another one.
    if (job.parent?.id !== data.parent_job_id)
      return refuseForged(deps, job, `it is not the child of request job ${data.parent_job_id}`);
    // Contract 1.5: a plan (and the approval signed for it) is for the host it names, never another.
    if (data.plan.host !== deps.host)
      return refuseForged(
        deps,
        job,
        `its plan is for host "${data.plan.host}" and this executor runs host "${deps.host}"`,
      );

    const service = `${data.plan.host}/${data.plan.service}`;
    const lease = await deps.leases.tryAcquire(service, String(job.id));
    if (!lease) {
      // Wait for the service without holding a worker slot.
      if (!token) throw new Error('the executor needs the worker token to wait for a lease');
      await job.moveToDelayed(deps.clock.now().getTime() + deps.leaseRetryMs, token);
      throw new DelayedError();
    }
    try {
      return await runLeased(job, data, lease);
    } finally {
      await lease.release();
    }
  };

  async function runLeased(
    job: Job,
    data: SignedExecJob,
    lease: { check(): Promise<void> },
  ): Promise<ExecResult> {
    const op = String(job.id);
    // Crash recovery (recovery/): an intent on disk for this op means the job already began its
    // change and came back after its worker died. It is reconciled from what Docker shows, under
    // this lease; never checked and run again (its `executing` entry is already in the run log).
    const unfinished = deps.recovery ? await findIntent(deps.intents, op) : null;
    if (unfinished && deps.recovery)
      return recoverExecJob({
        ...deps,
        recovery: deps.recovery,
        job,
        data,
        intent: unfinished,
        lease,
        alert: (result) => alertFailedRelease(deps, data, result),
        // Nothing changed before the crash: the same run starts again (recovery/resume-approval.ts).
        resume: {
          ...deps,
          needsApproval: (plan) => needsApproval(deps, plan),
          resume: () => resumeRun(deps, data, { op, approvalId: unfinished.approval_id, lease }),
        },
      });
    await deps.ledger.refresh?.();
    const decision = checkApproval(deps, data);
    if (!decision.ok) return securityRefusal(deps, data, decision.code, decision.message);
    const now = await planAgain(deps, data, decision.approvalId);
    if (!now.ok) return now.result;
    const marked = await markExecuting(deps, data, now, op, decision.approvalId);
    if (marked) return marked;
    return runPlanned(deps, data, now, { op, approvalId: decision.approvalId, lease });
  }
}

/** A request whose interrupted first run changed nothing: planned again (the signed hash holds), run under the same op. */
async function resumeRun(
  deps: ExecDeps,
  data: SignedExecJob,
  run: { op: string; approvalId: string | null; lease: { check(): Promise<void> } },
): Promise<ExecResult> {
  const now = await planAgain(deps, data, run.approvalId);
  if (now.ok) return runPlanned(deps, data, now, run);
  await deps.intents.done(run.op);
  return now.result;
}

/** The plan made again on what runs now: the plan to run (and its hash), or why nothing runs. */
type PlannedAgain =
  | { ok: true; plan: Plan; hash: string; service: ResolvedService }
  | { ok: false; result: ExecResult };

async function planAgain(
  deps: ExecDeps,
  data: SignedExecJob,
  approvalId: string | null,
): Promise<PlannedAgain> {
  let plan = data.plan;
  let hash = data.plan_hash;
  const observed = await observeAndPlan(deps, {
    request: data.request,
    target: plan.service,
    host: plan.host,
    classification: deps.policy().classify,
    beforePlanning: (seen) => secretsOutOfScope(deps, data.request, seen),
  });
  if (!observed.ok) {
    if (observed.stage === 'observe') {
      const { code, message } = observed.unseen;
      return { ok: false, result: { ok: false, code, message: `${message}; nothing was changed` } };
    }
    if (observed.stage === 'check') return { ok: false, result: observed.refusal };
    return {
      ok: false,
      result: {
        ok: false,
        code: 'stale_plan',
        message: `the plan can no longer be made (${observed.error.message}); nothing was changed`,
      },
    };
  }
  const { seen, plan: now } = observed;
  // A change that needed no approval is simply planned again on what runs now (say, the second of
  // two deploys queued for one service), as long as the new plan needs no approval either. An
  // approved plan is the plan Warden signed: if the target changed, it is stale.
  if (planHash(now) !== data.plan_hash && approvalId === null && !needsApproval(deps, now)) {
    plan = now;
    hash = planHash(now);
  }
  if (planHash(now) !== hash) {
    const message = `${plan.service} changed since the plan was made (plan ${data.plan_hash.slice(0, 12)}…); nothing was changed`;
    await deps.alerts.send({
      severity: 'warning',
      kind: 'stale_plan',
      target: plan.service,
      environment: plan.environment,
      message,
      details: {
        job_id: data.parent_job_id,
        approval_id: approvalId,
        plan_hash: data.plan_hash,
        now_hash: planHash(now),
      },
      dedup_key: `stale_plan:${data.parent_job_id}`,
    });
    return { ok: false, result: { ok: false, code: 'stale_plan', message } };
  }
  return { ok: true, plan, hash, service: seen.service };
}

/** The run-log entry that marks this approval as used, on disk before the first change; null when written. */
async function markExecuting(
  deps: ExecDeps,
  data: SignedExecJob,
  now: { plan: Plan; hash: string },
  op: string,
  approvalId: string | null,
): Promise<ExecResult | null> {
  const { plan, hash } = now;
  const entry = {
    event: 'executing',
    job_id: data.parent_job_id,
    request_id: plan.request_id,
    action: plan.action,
    target: plan.service,
    environment: plan.environment,
    approval_id: approvalId,
    code: null,
    message: `executing plan ${hash} (op ${op})${hash !== data.plan_hash ? `, planned again on the current state (was ${data.plan_hash})` : ''}`,
  };
  try {
    await deps.runLog.append(entry);
    deps.ledger.note(entry);
    return null;
  } catch {
    return {
      ok: false,
      code: 'unavailable',
      message: 'Helm cannot write its run log, and it changes nothing it cannot log; nothing was changed',
    };
  }
}

/**
 * The operation, under the write-ahead intent: written before it starts, each step recorded before
 * the change it announces (lease checked first), removed when it ends.
 */
async function runPlanned(
  deps: ExecDeps,
  data: SignedExecJob,
  now: { plan: Plan; hash: string; service: ResolvedService },
  run: { op: string; approvalId: string | null; lease: { check(): Promise<void> } },
): Promise<ExecResult> {
  const { plan, hash } = now;
  const { op, lease } = run;
  const operation = deps.operations[plan.action];
  if (!operation)
    return {
      ok: false,
      code: 'unavailable',
      message: `${plan.action} has no executor in this Helm version; nothing was changed`,
    };
  const intent = intentOf(deps, data, plan, hash, op, run.approvalId);
  await deps.intents.write(intent);
  deps.onStepRecorded?.(intent.step);
  const started = performance.now();
  try {
    const result = await withTimeout(
      operation({
        service: now.service,
        plan,
        approvalId: run.approvalId,
        requestId: plan.request_id,
        opId: op,
        async beforeChange(step, detail) {
          await lease.check();
          // The step's detail (which container, which volumes) is what recovery reads it by.
          await deps.intents.write({
            ...intent,
            step,
            ...(detail ? { detail } : {}),
            at: deps.clock.now().toISOString(),
          });
          deps.onStepRecorded?.(step);
        },
      }),
      deps.timeoutMs,
    );
    // The executor's part of the request: from its intent to the operation's result.
    deps.logger.info(
      {
        op,
        action: plan.action,
        service: plan.service,
        job_id: data.parent_job_id,
        ok: result.ok,
        ...(result.ok ? {} : { code: result.code }),
        duration_ms: Math.round(performance.now() - started),
      },
      'operation ended',
    );
    await alertFailedRelease(deps, data, result);
    return result;
  } catch (err) {
    deps.logger.error(
      { err, op, service: plan.service, duration_ms: Math.round(performance.now() - started) },
      'operation failed',
    );
    return { ok: false, code: 'internal', message: `the operation stopped: ${(err as Error).message}` };
  } finally {
    await deps.intents.done(op);
  }
}

/** The write-ahead intent of an operation, at its start. */
function intentOf(
  deps: ExecDeps,
  data: SignedExecJob,
  plan: Plan,
  hash: string,
  op: string,
  approvalId: string | null,
) {
  return {
    op,
    service: plan.service,
    action: plan.action,
    job_id: data.parent_job_id,
    approval_id: approvalId,
    plan_hash: hash,
    from_release: plan.action === 'deploy' ? plan.desired.replaces_release : null,
    to_release:
      plan.action === 'deploy'
        ? plan.desired.new_release
        : plan.action === 'rollback'
          ? plan.desired.to_release
          : null,
    step: 'start',
    at: deps.clock.now().toISOString(),
    // Recovery finishes scale, remove and set_env from it when the job is gone (recovery/).
    plan,
  };
}

export type { ActionOutcome };
