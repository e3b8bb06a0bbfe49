import { randomUUID } from 'node:crypto';
import { DelayedError, type Job } from 'bullmq';
import { type ApprovalRequest, ApprovalRequestSchema, type Plan } from '../contracts/index.js';
import type { Seen } from '../observe/observe-and-plan.js';
import { stopWaitOf, stopWaitText } from '../observe/stop-timeout.js';
import { planSteps, stepContextOf } from '../plan/build-plan.js';
import { publishStatus } from '../results/publish-status.js';
import { resultWithStatus } from '../results/result-builder.js';
import type { GateDeps, HeldRequest } from './gate-deps.js';

/** A plan the gate built, with its hash (what Warden signs and the executor checks). */
export interface HashedPlan {
  plan: Plan;
  hash: string;
}

/** Why Warden is asked, for how long, and what the gate saw (the steps name it). */
export interface ApprovalAsk {
  /** The policy's reason for asking. */
  reason: string;
  waitMs: number;
  seen: Seen;
}

/**
 * A request that needs Warden: an approval request goes to helm.warden and the job is parked (a
 * delayed job) until a decision wakes it (handle-decision.ts) or its deadline passes; either way
 * it comes back through resume-request.ts. It holds no worker slot meanwhile.
 */
export async function parkForWarden(
  deps: GateDeps,
  held: HeldRequest,
  { plan, hash }: HashedPlan,
  { reason, waitMs, seen }: ApprovalAsk,
): Promise<never> {
  const { job, token, request, subject } = held;
  const approvalId = randomUUID();
  const requestedAt = deps.clock.now();
  const deadline = requestedAt.getTime() + waitMs;
  const approvalRequest: ApprovalRequest = ApprovalRequestSchema.parse({
    type: 'helm.approval-request.v1',
    approval_id: approvalId,
    plan_hash: hash,
    plan,
    steps: approvalSteps(plan, seen),
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
  deps.onParked?.(approvalRequest);
  const withId = { ...subject, approval_id: approvalId };
  await publishStatus(
    deps,
    job,
    resultWithStatus(
      withId,
      deps.clock.now(),
      'pending_approval',
      `waiting for Warden until ${new Date(deadline).toISOString()}: ${reason}`,
    ),
    { event: 'pending_approval', final: false },
  );
  return sleepUntil(job, token, deadline);
}

/**
 * The steps Warden reads: they name the containers (and volumes) the plan's preconditions bind, as
 * Docker shows them, and how long each stop may wait (the container's own stop wait).
 */
function approvalSteps(plan: Plan, seen: Seen): string[] {
  const context = stepContextOf(seen.containers);
  const stopWaits = Object.fromEntries(seen.containers.map((c) => [c.Id, stopWaitText(stopWaitOf(c))]));
  return planSteps(plan, context.names, context.volumes, stopWaits);
}

/** Parks the job (delayed) until `at`, or until a decision promotes it; it comes back to the gate. */
export async function sleepUntil(job: Job, token: string | undefined, at: number): Promise<never> {
  if (!token) throw new Error('the gate needs the worker token to park a request');
  await job.moveToDelayed(at, token);
  throw new DelayedError();
}
