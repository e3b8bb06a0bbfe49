import type { Environment } from '../contracts/index.js';
import { DelayedError, type Job } from 'bullmq';
import type { ActionOutcome } from '../actions/action-types.js';
import { type Keyring, planHash, verifyDecisionText } from '../approval/index.js';
import type { AlertSender } from '../bus/alert-sender.js';
import type { Clock } from '../base/clock.js';
import { type ActionRequest, type ApprovalDecision, parseRfc3339Utc, type Plan } from '../contracts/index.js';
import type { DockerReads } from '../docker/docker-client.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { ApprovalLedger } from '../runlog/approval-ledger.js';
import { type ExecResult, isGenuineExecJob, type SignedExecJob } from '../exec-job/exec-job.js';
import { observeAndPlan, type Seen } from '../observe/observe-and-plan.js';
import type { Logger } from '../log/logger.js';
import { policyInputOf } from '../plan/build-plan.js';
import type { PlanInputSources } from '../observe/plan-inputs.js';
import {
  outOfScopeSecrets,
  type SecretScopeSources,
  summariseScopeProblems,
} from '../secrets/secret-scope-check.js';
import type { ReleaseStore } from '../releases/release-store.js';
import { decide, type Policy } from '../policy/policy.js';
import type { RunLog } from '../runlog/index.js';
import type { IntentStore } from '../intents/intent-store.js';
import type { LeaseManager } from './lease.js';
import { type ExecRecovery, findIntent, recoverExecJob } from './recover.js';

/**
 * An executor's job on helm.exec. Before its first change it checks everything again: that the gate
 * issued the job (MAC), that a change needing approval carries a valid signed decision for this very
 * plan, consumed for this very request and not used before (the run log says so, not only Redis),
 * that the decision has not expired, and that the target still looks as it did when the plan was
 * made. Then it takes the service's lease, writes its intent, and runs the operation; every Docker
 * change is announced (lease checked, intent step recorded) before it is made.
 */
export interface ExecOperationContext {
  service: ResolvedService;
  plan: Plan;
  approvalId: string | null;
  requestId: string | null;
  /** The operation id (the intent's op); labelled helm.op on what Helm creates. */
  opId: string;
  /** Call before every Docker change: checks the lease and records the intent step. */
  beforeChange(step: string, detail?: Record<string, unknown>): Promise<void>;
}

/** The operations an executor can run, by action. */
export type ExecOperations = Partial<Record<string, (ctx: ExecOperationContext) => Promise<ExecResult>>>;

export interface ExecDeps extends PlanInputSources, SecretScopeSources {
  /** The owner's services file: the environment of a service defined there with no container yet. */
  definedEnvironment?: (service: string) => Environment | null;
  internalKey: Buffer;
  configKey: Buffer;
  keyring(): Keyring;
  policy(): Policy;
  ledger: ApprovalLedger;
  runLog: RunLog;
  alerts: AlertSender;
  docker: DockerReads;
  leases: LeaseManager;
  intents: IntentStore;
  operations: ExecOperations;
  /** Release records, for recomputing deploy and rollback plans. */
  releases?: ReleaseStore;
  clock: Clock;
  logger: Logger;
  host: string;
  skewMs: number;
  /** How soon a job that waits for its service's lease asks again. */
  leaseRetryMs: number;
  timeoutMs: number;
  /** Crash recovery (recover.ts): how a job that came back after its worker died is reconciled. */
  recovery?: ExecRecovery | null;
  /**
   * Why a job's MAC may not verify without anyone forging it: a live Helm process on this bus holds
   * another internal-job key (internal-key-claim.ts). null: nothing explains it.
   */
  explainBadMac?: () => Promise<string | null>;
  /**
   * Told each step right after the write-ahead intent recorded it (`start`, then every step an
   * operation announces), before the change it announces. Helm sets none; the crash tests kill the
   * process here (test/helpers/crash-point.ts).
   */
  onStepRecorded?: (step: string) => void;
}

export function makeExecJobHandler(deps: ExecDeps) {
  return async function runExecJob(job: Job, token?: string): Promise<ExecResult> {
    if (!isGenuineExecJob(job.data, deps.internalKey)) {
      const misconfigured = await deps.explainBadMac?.().catch(() => null);
      if (misconfigured) return refuseMisconfigured(job, misconfigured);
      return refuseForged(job, 'its MAC does not verify: it was not issued by Helm’s gate');
    }
    const data = job.data as SignedExecJob;
    // A genuine job replayed onto the queue on its own has no parent, or another one.
    if (job.parent?.id !== data.parent_job_id)
      return refuseForged(job, `it is not the child of request job ${data.parent_job_id}`);

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
    // Crash recovery (recover.ts): an intent on disk for this op means the job already began its
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
        alert: (result) => alertFailedRelease(data, result),
      });
    let plan = data.plan;
    let hash = data.plan_hash;
    await deps.ledger.refresh?.();
    const decision = checkApproval(data);
    if (!decision.ok) return securityRefusal(data, decision.code, decision.message);

    const observed = await observeAndPlan(deps, {
      request: data.request,
      target: plan.service,
      host: plan.host,
      classification: deps.policy().classify,
      beforePlanning: (seen) => secretsOutOfScope(data.request, seen),
    });
    if (!observed.ok) {
      if (observed.stage === 'observe') {
        const { code, message } = observed.unseen;
        return { ok: false, code, message: `${message}; nothing was changed` };
      }
      if (observed.stage === 'check') return observed.refusal;
      return {
        ok: false,
        code: 'stale_plan',
        message: `the plan can no longer be made (${observed.error.message}); nothing was changed`,
      };
    }
    const { seen, plan: now } = observed;
    // A change that needed no approval is simply planned again on what runs now (say, the second of
    // two deploys queued for one service), as long as the new plan needs no approval either. An
    // approved plan is the plan Warden signed: if the target changed, it is stale.
    if (planHash(now) !== data.plan_hash && decision.approvalId === null && !needsApproval(now)) {
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
          approval_id: decision.approvalId,
          plan_hash: data.plan_hash,
          now_hash: planHash(now),
        },
        dedup_key: `stale_plan:${data.parent_job_id}`,
      });
      return { ok: false, code: 'stale_plan', message };
    }

    // The run-log entry that marks this approval as used must be on disk before the first change.
    const entry = {
      event: 'executing',
      job_id: data.parent_job_id,
      request_id: plan.request_id,
      action: plan.action,
      target: plan.service,
      environment: plan.environment,
      approval_id: decision.approvalId,
      code: null,
      message: `executing plan ${hash} (op ${op})${hash !== data.plan_hash ? `, planned again on the current state (was ${data.plan_hash})` : ''}`,
    };
    try {
      await deps.runLog.append(entry);
      deps.ledger.note(entry);
    } catch {
      return {
        ok: false,
        code: 'unavailable',
        message: 'Helm cannot write its run log, and it changes nothing it cannot log; nothing was changed',
      };
    }

    const operation = deps.operations[plan.action];
    if (!operation)
      return {
        ok: false,
        code: 'unavailable',
        message: `${plan.action} has no executor in this Helm version; nothing was changed`,
      };
    const intent = {
      op,
      service: plan.service,
      action: plan.action,
      job_id: data.parent_job_id,
      approval_id: decision.approvalId,
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
    };
    await deps.intents.write(intent);
    deps.onStepRecorded?.(intent.step);
    const started = performance.now();
    try {
      const result = await withTimeout(
        operation({
          service: seen.service,
          plan,
          approvalId: decision.approvalId,
          requestId: plan.request_id,
          opId: op,
          async beforeChange(step) {
            await lease.check();
            await deps.intents.write({ ...intent, step, at: deps.clock.now().toISOString() });
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
      await alertFailedRelease(data, result);
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

  /** The gate refused references outside their scope; a scope the owner narrowed since holds too. */
  async function secretsOutOfScope(request: ActionRequest, seen: Seen): Promise<ExecResult | null> {
    const outOfScope = await outOfScopeSecrets(request, seen, deps);
    if (outOfScope.length === 0) return null;
    return {
      ok: false,
      code: 'denied',
      message: `${summariseScopeProblems(outOfScope)}; nothing was changed`,
    };
  }

  /** A deploy or rollback that failed pages the owner: rolled back (warning) or not restorable (critical). */
  async function alertFailedRelease(data: SignedExecJob, result: ExecResult) {
    if (result.ok || (result.code !== 'rolled_back' && result.code !== 'rollback_failed')) return;
    const restored = result.code === 'rolled_back';
    await deps.alerts.send({
      severity: restored && data.plan.environment !== 'production' ? 'warning' : 'critical',
      kind: restored ? 'rolled_back' : 'deploy_failed',
      target: data.plan.service,
      environment: data.plan.environment,
      message: `${data.plan.action} of ${data.plan.service} failed${restored ? ' and was rolled back' : '; the previous release could not be restored'}: ${result.message}`,
      details: {
        job_id: data.parent_job_id,
        plan_hash: data.plan_hash,
        ...(result.data ? { data: result.data } : {}),
      },
      dedup_key: `${restored ? 'rolled_back' : 'deploy_failed'}:${data.parent_job_id}`,
    });
  }

  /** Whether the policy gates this plan (read from the plan itself, as the gate reads it). */
  function needsApproval(plan: Plan): boolean {
    return decide(policyInputOf(plan), deps.policy()).decision !== 'auto';
  }

  type ApprovalCheck =
    | { ok: true; approvalId: string | null }
    | { ok: false; code: 'stale_plan' | 'denied'; message: string };

  function checkApproval(data: SignedExecJob): ApprovalCheck {
    const plan = data.plan;
    const needs = needsApproval(plan);
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

  async function securityRefusal(
    data: SignedExecJob,
    code: 'stale_plan' | 'denied',
    why: string,
  ): Promise<ExecResult> {
    const message = `refused before any change: ${why}; nothing was changed`;
    await deps.runLog
      .append({
        event: 'security',
        job_id: data.parent_job_id,
        action: data.plan.action,
        target: data.plan.service,
        environment: data.plan.environment,
        code,
        message,
      })
      .catch(() => undefined);
    await deps.alerts.send({
      severity: 'critical',
      kind: code === 'stale_plan' ? 'stale_plan' : 'security',
      target: data.plan.service,
      environment: data.plan.environment,
      message: `${data.plan.action} ${data.plan.service}: ${message}`,
      details: { job_id: data.parent_job_id, plan_hash: data.plan_hash },
      dedup_key: `security:exec:${data.parent_job_id}`,
    });
    return { ok: false, code, message };
  }

  async function refuseForged(job: Job, why: string): Promise<ExecResult> {
    const message = `a job on helm.exec was refused: ${why}; nothing was changed`;
    deps.logger.warn({ exec_job: job.id }, message);
    await deps.runLog
      .append({ event: 'security', job_id: null, code: 'forged_job', message })
      .catch(() => undefined);
    await deps.alerts.send({
      severity: 'critical',
      kind: 'security',
      message,
      details: { exec_job: job.id ?? null, name: job.name },
      dedup_key: `security:exec-job:${job.id}`,
    });
    return { ok: false, code: 'denied', message };
  }

  /** Helm's own misconfiguration is no attack: the owner is told what to fix, never paged "security". */
  async function refuseMisconfigured(job: Job, cause: string): Promise<ExecResult> {
    const message = `a job on helm.exec was not run: its MAC does not verify because ${cause}; nothing was changed`;
    deps.logger.error({ exec_job: job.id }, message);
    await deps.runLog
      .append({ event: 'helm_degraded', job_id: null, code: 'internal_key_mismatch', message })
      .catch(() => undefined);
    await deps.alerts.send({
      severity: 'critical',
      kind: 'helm_degraded',
      message,
      details: { exec_job: job.id ?? null, name: job.name },
      dedup_key: 'helm_degraded:internal_key',
    });
    return { ok: false, code: 'internal', message };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no end within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

export type { ActionOutcome };
