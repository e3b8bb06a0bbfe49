import type { Environment } from '../contracts/index.js';
import { randomUUID } from 'node:crypto';
import { DelayedError, type Job, type Queue, WaitingChildrenError } from 'bullmq';
import { planHash } from '../approval/index.js';
import type { Clock } from '../base/clock.js';
import {
  type ActionRequest,
  type ActionResult,
  type ApprovalRequest,
  ApprovalRequestSchema,
  type Plan,
} from '../contracts/index.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { failedResult, resultWithStatus, type ResultSubject } from '../results/result-builder.js';
import { publishStatus, type RunLogEvent, type StatusSinks } from '../results/publish-status.js';
import { planSteps, policyInputOf, stepContextOf } from '../plan/build-plan.js';
import type { ReleaseStore } from '../releases/release-store.js';
import { stopWaitOf, stopWaitText } from '../observe/stop-timeout.js';
import { cannotDo, type ScaleSource } from '../observe/cannot-do.js';
import { scaleChanges } from '../plan/scale-choice.js';
import type { PlanInputSources } from '../observe/plan-inputs.js';
import { observeAndPlan, type Seen } from '../observe/observe-and-plan.js';
import {
  outOfScopeSecrets,
  type SecretScopeSources,
  summariseScopeProblems,
} from '../secrets/secret-scope-check.js';
import { decide, type Policy } from '../policy/policy.js';
import { type ExecJobData, type ExecResult, signExecJob } from '../exec-job/exec-job.js';
import { ENVIRONMENT_RANK } from '../observe/observe-target.js';
import type { ParkedStore } from './parked-store.js';
import type { RequestState, RequestStateStore } from './request-state.js';

/**
 * The gate: every request that would change something passes here. It looks at the target, builds
 * the plan exactly as CONTRACT.md defines it, asks the policy, and then runs it (auto), refuses it
 * (deny), or parks it for Warden without holding a worker slot (a delayed job that wakes on a
 * decision or at its deadline). Execution is handed to an executor as a child job; the request's job
 * waits for it without holding a slot either.
 */
export interface Gate {
  handles(action: string): boolean;
  stateOf(jobId: string): Promise<RequestState | null>;
  start(
    job: Job,
    token: string | undefined,
    request: ActionRequest,
    subject: ResultSubject,
  ): Promise<ActionResult>;
  resume(
    job: Job,
    token: string | undefined,
    request: ActionRequest,
    subject: ResultSubject,
    state: RequestState,
  ): Promise<ActionResult>;
}

export interface GateDeps extends StatusSinks, PlanInputSources, SecretScopeSources {
  /** The owner's services file: the environment of a service defined there with no container yet. */
  definedEnvironment?: (service: string) => Environment | null;
  clock: Clock;
  docker: DockerReads;
  parked: ParkedStore;
  states: RequestStateStore;
  execQueue: Queue;
  wardenQueue: Queue;
  policy: () => Policy;
  configKey: Buffer;
  internalKey: Buffer;
  /** The actions an executor can carry out; the others stay unavailable. */
  executorActions: ReadonlySet<string>;
  host: string;
  retention: { age: number; count: number };
  /** Release records, for deploy and rollback plans. */
  releases?: ReleaseStore;
}

export function makeGate(deps: GateDeps): Gate {
  const now = () => deps.clock.now();
  const finish = (job: Job, r: ActionResult, event?: RunLogEvent) =>
    publishStatus(deps, job, r, {
      event: event ?? (r.status === 'executed' ? 'executed' : 'failed'),
      final: true,
    });

  async function start(job: Job, token: string | undefined, request: ActionRequest, subject: ResultSubject) {
    const policy = deps.policy();
    const observed = await observeAndPlan(deps, {
      request,
      target: request.target,
      host: deps.host,
      classification: policy.classify,
      beforePlanning: (seen) => refusalBeforePlanning(job, request, subject, seen),
    });
    if (!observed.ok) {
      if (observed.stage === 'observe') {
        const { code, message, data } = observed.unseen;
        return finish(job, failedResult(subject, now(), code, message, data ? { data } : {}));
      }
      if (observed.stage === 'check') return observed.refusal;
      const err = observed.error;
      return finish(job, failedResult(subject, now(), err.code, `${err.message}; nothing was changed`));
    }
    const { seen, plan } = observed;
    const hash = planHash(plan);
    const verdict = decide(policyInputOf(plan), policy);
    if (verdict.decision === 'deny')
      return finish(job, failedResult(subject, now(), 'denied', `${verdict.reason}; nothing was changed`));
    if (verdict.decision === 'needs_approval') {
      // The steps name the containers (and volumes) the plan's preconditions bind, as Docker shows them,
      // and how long each stop may wait (the container's own stop wait).
      const context = stepContextOf(seen.containers);
      const stopWaits = Object.fromEntries(seen.containers.map((c) => [c.Id, stopWaitText(stopWaitOf(c))]));
      const steps = planSteps(plan, context.names, context.volumes, stopWaits);
      const waitMs = policy.approvalDeadlineS * 1000;
      return park(job, token, request, subject, plan, hash, steps, verdict.reason, waitMs);
    }

    await publishStatus(
      deps,
      job,
      resultWithStatus(subject, now(), 'approved', `no approval needed: ${verdict.reason}`),
      { event: 'approved', final: false },
    );
    return handOff(job, token, request, subject, plan, hash, null);
  }

  /**
   * The gate's own checks on what it saw, in this order, before the plan reads any secret: Helm's own
   * containers, the stated environment, secret scopes, and what this Helm cannot do. null: none refuses.
   */
  async function refusalBeforePlanning(
    job: Job,
    request: ActionRequest,
    subject: ResultSubject,
    seen: Seen,
  ): Promise<ActionResult | null> {
    if (seen.protectedBy) {
      return finish(
        job,
        failedResult(
          subject,
          now(),
          'protected_target',
          `Helm never changes its own containers or the bus: ${seen.protectedBy}; nothing was changed`,
        ),
      );
    }
    if (request.environment !== seen.environment) {
      const weaker = ENVIRONMENT_RANK[request.environment] < ENVIRONMENT_RANK[seen.environment];
      if (weaker) {
        await deps.alerts.send({
          severity: 'critical',
          kind: 'security',
          target: request.target,
          environment: seen.environment,
          message: `A request named ${request.target} ${request.environment}, but it is ${seen.environment}: refused. Someone may be trying to get around Warden.`,
          details: {
            job_id: subject.job_id,
            requested_by: request.requested_by ?? null,
            stated: request.environment,
            real: seen.environment,
          },
          dedup_key: `security:environment:${subject.job_id}`,
        });
      }
      return finish(
        job,
        failedResult(
          subject,
          now(),
          'environment_mismatch',
          `${request.target} is ${seen.environment}, not ${request.environment}; nothing was changed`,
        ),
      );
    }

    // Before the plan reads any secret, and before the policy or Warden: in every environment.
    const outOfScope = await outOfScopeSecrets(request, seen, deps);
    if (outOfScope.length > 0) return refuseSecrets(job, request, subject, seen.environment, outOfScope);

    // What this Helm cannot do is refused before Warden is asked to approve it (cannot-do.ts).
    const impossible = cannotDo(
      request,
      seen.service,
      await scaleSourceOf(deps.docker, request, seen.containers),
    );
    if (impossible) return finish(job, failedResult(subject, now(), impossible.code, impossible.message));

    return null;
  }

  /** A secret reference outside its scope: someone may be reaching for a secret; alerted, never asked. */
  async function refuseSecrets(
    job: Job,
    request: ActionRequest,
    subject: ResultSubject,
    environment: Environment,
    problems: string[],
  ) {
    const why = summariseScopeProblems(problems);
    await deps.alerts.send({
      severity: 'critical',
      kind: 'security',
      target: request.target,
      environment,
      message:
        request.action === 'set_env'
          ? `A set_env on ${request.target} named secrets the owner did not allow there: refused, nothing was changed and Warden was not asked. Someone may be trying to copy a secret out of its scope. ${why}`
          : `A first deploy of ${request.target} would give it secrets from the owner's services file that their scopes do not allow there: refused, nothing was changed and Warden was not asked. ${why}`,
      details: {
        job_id: subject.job_id,
        requested_by: request.requested_by ?? null,
        problems: problems.slice(0, 20),
      },
      dedup_key: `security:secret_scope:${subject.job_id}`,
    });
    return finish(job, failedResult(subject, now(), 'denied', `${why}; nothing was changed`));
  }

  async function park(
    job: Job,
    token: string | undefined,
    request: ActionRequest,
    subject: ResultSubject,
    plan: Plan,
    hash: string,
    steps: string[],
    reason: string,
    waitMs: number,
  ) {
    const approvalId = randomUUID();
    const requestedAt = now();
    const deadline = requestedAt.getTime() + waitMs;
    const approvalRequest: ApprovalRequest = ApprovalRequestSchema.parse({
      type: 'helm.approval-request.v1',
      approval_id: approvalId,
      plan_hash: hash,
      plan,
      steps,
      request,
      requested_at: requestedAt.toISOString(),
      expires_at: new Date(deadline).toISOString(),
    });
    // Parked first, announced second: a decision can only ever find a request that is ready for it.
    await deps.parked.park(approvalRequest, subject.job_id, waitMs + 24 * 3600_000);
    await deps.states.set(subject.job_id, {
      stage: 'parked',
      approval_id: approvalId,
      plan_hash: hash,
      deadline,
      exec_job_id: null,
    });
    await deps.wardenQueue.add('approval-request', approvalRequest, {
      jobId: approvalId,
      removeOnComplete: deps.retention,
      removeOnFail: deps.retention,
    });
    const withId = { ...subject, approval_id: approvalId };
    await publishStatus(
      deps,
      job,
      resultWithStatus(
        withId,
        now(),
        'pending_approval',
        `waiting for Warden until ${new Date(deadline).toISOString()}: ${reason}`,
      ),
      { event: 'pending_approval', final: false },
    );
    return sleepUntil(job, token, deadline);
  }

  async function resume(
    job: Job,
    token: string | undefined,
    request: ActionRequest,
    subject: ResultSubject,
    state: RequestState,
  ) {
    const withId = { ...subject, approval_id: state.approval_id };
    if (state.stage === 'executing') return collect(job, token, withId);
    const record = state.approval_id ? await deps.parked.get(state.approval_id) : null;
    switch (record?.status) {
      case 'approved': {
        const decision = JSON.parse(record.decision_json ?? 'null') as { approver?: string } | null;
        await publishStatus(
          deps,
          job,
          resultWithStatus(
            withId,
            now(),
            'approved',
            `approved by ${decision?.approver ?? 'Warden'}; executing`,
          ),
          { event: null, final: false },
        );
        return handOff(
          job,
          token,
          request,
          withId,
          record.approval_request.plan,
          record.plan_hash,
          record.decision_json,
        );
      }
      case 'denied': {
        const decision = JSON.parse(record.decision_json ?? 'null') as {
          approver?: string;
          reason?: string;
        } | null;
        const why = `denied by ${decision?.approver ?? 'Warden'}${decision?.reason ? `: ${decision.reason}` : ''}; nothing was changed`;
        return finish(job, failedResult(withId, now(), 'denied', why));
      }
      case 'cancelled':
        return finish(
          job,
          failedResult(
            withId,
            now(),
            'cancelled',
            'cancelled by the owner while waiting for Warden; nothing was changed',
          ),
        );
      case 'parked': {
        if (now().getTime() < (state.deadline ?? 0)) return sleepUntil(job, token, state.deadline ?? 0);
        if (!(await deps.parked.end(record.approval_id, 'expired', now())))
          return resume(job, token, request, subject, state);
        return expire(job, withId, state);
      }
      default:
        return expire(job, withId, state);
    }
  }

  async function expire(job: Job, subject: ResultSubject, state: RequestState) {
    const at = state.deadline ? new Date(state.deadline).toISOString() : 'its deadline';
    await deps.alerts.send({
      severity: 'warning',
      kind: 'approval_expired',
      ...(subject.target ? { target: subject.target } : {}),
      message: `${subject.action} ${subject.target} expired at ${at} without a decision from Warden; nothing was changed`,
      details: { job_id: subject.job_id, approval_id: state.approval_id },
      dedup_key: `approval_expired:${state.approval_id}`,
    });
    return finish(
      job,
      failedResult(
        subject,
        now(),
        'approval_expired',
        `no decision from Warden by ${at}; nothing was changed`,
      ),
      'expired',
    );
  }

  async function handOff(
    job: Job,
    token: string | undefined,
    request: ActionRequest,
    subject: ResultSubject,
    plan: Plan,
    hash: string,
    decisionJson: string | null,
  ) {
    const execJobId = `exec-${subject.job_id}`;
    const data: ExecJobData = {
      v: 1,
      parent_job_id: subject.job_id,
      request,
      plan,
      plan_hash: hash,
      decision_json: decisionJson,
    };
    await deps.execQueue.add(request.action, signExecJob(data, deps.internalKey), {
      jobId: execJobId,
      parent: { id: subject.job_id, queue: job.queueQualifiedName },
      // A child that BullMQ fails must not leave the request waiting forever: it is collected as failed.
      ignoreDependencyOnFailure: true,
      removeOnComplete: deps.retention,
      removeOnFail: deps.retention,
    });
    const state: RequestState = {
      stage: 'executing',
      approval_id: subject.approval_id ?? null,
      plan_hash: hash,
      deadline: null,
      exec_job_id: execJobId,
    };
    await deps.states.set(subject.job_id, state);
    if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
    return collect(job, token, subject);
  }

  async function collect(job: Job, token: string | undefined, subject: ResultSubject) {
    const failures = Object.values(await job.getIgnoredChildrenFailures());
    if (failures.length > 0) {
      return finish(
        job,
        failedResult(subject, now(), 'internal', `the executor failed: ${String(failures[0]).slice(0, 300)}`),
      );
    }
    const [result] = Object.values(await job.getChildrenValues()) as ExecResult[];
    if (!result) {
      // Back here before the executor finished (this job's worker died meanwhile): wait again.
      if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
      return finish(job, failedResult(subject, now(), 'internal', 'the executor returned no result'));
    }
    const extra = {
      ...(result.data ? { data: result.data } : {}),
      ...(result.release ? { release: result.release as ActionResult['release'] } : {}),
    } as Partial<ActionResult>;
    if (result.ok) return finish(job, resultWithStatus(subject, now(), 'executed', result.outcome, extra));
    return finish(
      job,
      failedResult(subject, now(), result.code, result.message, extra),
      result.code === 'rolled_back' ? 'rolled_back' : 'failed',
    );
  }

  async function sleepUntil(job: Job, token: string | undefined, at: number): Promise<never> {
    if (!token) throw new Error('the gate needs the worker token to park a request');
    await job.moveToDelayed(at, token);
    throw new DelayedError();
  }

  return {
    handles: (action) => deps.executorActions.has(action),
    stateOf: (jobId) => deps.states.get(jobId),
    start,
    resume,
  };
}

/** For a scale to more than one replica: the replica new ones would copy (replica 1), and its image. */
async function scaleSourceOf(
  docker: DockerReads,
  request: ActionRequest,
  containers: readonly ContainerInspect[],
): Promise<ScaleSource | null> {
  if (request.action !== 'scale' || request.params.replicas <= 1) return null;
  const info = scaleChanges(containers, request.params.replicas).keep[0];
  if (!info) return null;
  return { info, image: await docker.inspectImage(info.Image).catch(() => null) };
}
