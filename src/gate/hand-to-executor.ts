import { WaitingChildrenError } from 'bullmq';
import type { ActionResult } from '../contracts/index.js';
import { type ExecJobData, type ExecResult, signExecJob } from '../exec-job/exec-job.js';
import { failedResult, resultWithStatus, type ResultSubject } from '../results/result-builder.js';
import { finish, finishFailed } from './finish-request.js';
import type { GateDeps, HeldRequest } from './gate-deps.js';
import type { HashedPlan } from './park-for-warden.js';
import type { RequestState } from './request-state.js';

/**
 * An approved plan (by the policy, or by Warden's decision: `decisionJson`) goes to an executor as a
 * signed exec job on helm.exec.<the plan's host>, a child of the request's job; the request's job waits for it without
 * holding a worker slot, and comes back to `collectExecResult` when it ends.
 */
export async function handToExecutor(
  deps: GateDeps,
  held: HeldRequest,
  { plan, hash }: HashedPlan,
  decisionJson: string | null,
): Promise<ActionResult> {
  const { job, token, request, subject } = held;
  const execJobId = `exec-${subject.job_id}`;
  const data: ExecJobData = {
    v: 1,
    parent_job_id: subject.job_id,
    request,
    plan,
    plan_hash: hash,
    decision_json: decisionJson,
  };
  await deps.execQueue(plan.host).add(request.action, signExecJob(data, deps.internalKey), {
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
  return collectExecResult(deps, held);
}

/** The executor's result becomes the request's final result (a failed child: `internal`). */
export async function collectExecResult(
  deps: GateDeps,
  held: Pick<HeldRequest, 'job' | 'token' | 'subject'>,
): Promise<ActionResult> {
  const { job, token, subject } = held;
  const failures = Object.values(await job.getIgnoredChildrenFailures());
  if (failures.length > 0)
    return finishFailed(deps, held, 'internal', `the executor failed: ${String(failures[0]).slice(0, 300)}`);
  const [result] = Object.values(await job.getChildrenValues()) as ExecResult[];
  if (!result) {
    // Back here before the executor finished (this job's worker died meanwhile): wait again.
    if (token && (await job.moveToWaitingChildren(token))) throw new WaitingChildrenError();
    return finishFailed(deps, held, 'internal', 'the executor returned no result');
  }
  return finishWithExecResult(deps, job, subject, result);
}

function finishWithExecResult(
  deps: GateDeps,
  job: HeldRequest['job'],
  subject: ResultSubject,
  result: ExecResult,
): Promise<ActionResult> {
  const now = deps.clock.now();
  const extra = {
    ...(result.data ? { data: result.data } : {}),
    ...(result.release ? { release: result.release as ActionResult['release'] } : {}),
  } as Partial<ActionResult>;
  if (result.ok) return finish(deps, job, resultWithStatus(subject, now, 'executed', result.outcome, extra));
  return finish(
    deps,
    job,
    failedResult(subject, now, result.code, result.message, extra),
    result.code === 'rolled_back' ? 'rolled_back' : 'failed',
  );
}
