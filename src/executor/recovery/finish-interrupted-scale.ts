import type { PlanFor } from '../../contracts/index.js';
import { resolveTarget } from '../../docker/target-resolution.js';
import type { ExecResult } from '../../exec-job/exec-job.js';
import { announce, type ExecContext } from '../exec-context.js';
import { MAINTENANCE_STEP } from '../maintenance-steps.js';
import { stopTimeout } from '../replica-switch.js';
import { recordScaledSet, scaleService } from '../scale.js';
import { inspectActive, nameOf } from '../target-containers.js';
import {
  afterCrashWords,
  createdBy,
  isRunning,
  type RecoveringIntent,
  serviceContainers,
} from './interrupted-state.js';

/**
 * Recovery of an interrupted scale (up or down): it is completed from what Docker shows, never from
 * what it assumes.
 *  1. Replicas the interrupted scale up created (its `helm.op`, created after it began, none the plan
 *     names) are half-made: created but perhaps not started, or started but never health-checked.
 *     They are stopped and removed (recover_undo_stop_replica / recover_undo_remove_replica).
 *  2. The scale then runs again toward the signed plan's `replicas` on what runs now (scale.ts):
 *     replicas the plan removes and that are still there go (only those: the plan names them), a
 *     stopped replica that stays is started, missing replicas are created as copies of replica 1 and
 *     health-checked; a failing one is undone (`health_check_failed`, as the scale itself would).
 *  3. The release record is brought to the final set when it described the containers before.
 * Its own changes are announced (recover_<step>), so a crash during recovery is recovered again.
 */
export async function finishInterruptedScale(
  ctx: ExecContext,
  intent: RecoveringIntent,
  plan: PlanFor<'scale'>,
  startedAt: Date | null,
): Promise<ExecResult> {
  const words = afterCrashWords(intent);
  const planned = new Set(plan.preconditions.containers.map((c) => c.id));
  const halfMade = (await serviceContainers(ctx, intent)).filter(
    (c) => createdBy(c, { op: intent.op, to_release: null }, startedAt) && !planned.has(c.Id),
  );
  const removed: string[] = [];
  for (const c of halfMade) {
    const d = { replica: nameOf(c), container: c.Id };
    if (isRunning(c)) {
      await announce(ctx, MAINTENANCE_STEP.undoStopReplica, d);
      await ctx.docker.stopContainer(c.Id, stopTimeout(c));
    }
    await announce(ctx, MAINTENANCE_STEP.undoRemoveReplica, d);
    await ctx.docker.removeContainer(c.Id, { force: true, volumes: true });
    removed.push(nameOf(c));
  }
  const resolved = resolveTarget(intent.service, await ctx.docker.listContainers());
  if (!resolved.ok)
    return {
      ok: false,
      code: 'unknown_target',
      message: `recovered ${words}: ${intent.service} has no container left to scale (${resolved.message})`,
      data: { recovered: true, crashed_at_step: intent.step, removed_half_made: removed },
    };
  const present = new Set(resolved.service.containers.map((c) => c.id));
  const meta = {
    requestId: plan.request_id,
    approvalId: intent.approval_id,
    environment: plan.environment,
    opId: intent.op,
  };
  const rerun = await scaleService(
    ctx,
    resolved.service,
    plan.desired.replicas,
    meta,
    plan.desired.remove_containers.filter((id) => present.has(id)),
  );
  if (rerun.ok) await recordIfItDescribedThePlan(ctx, plan, intent.service);
  const undone = removed.length > 0 ? `; the half-made ${removed.join(', ')} removed first` : '';
  const data = {
    ...(rerun.data ?? {}),
    recovered: true,
    crashed_at_step: intent.step,
    removed_half_made: removed,
  };
  return rerun.ok
    ? { ok: true, outcome: `recovered ${words}: the scale was completed${undone}: ${rerun.outcome}`, data }
    : { ...rerun, message: `recovered ${words}${undone}: ${rerun.message}`, data };
}

/** The current release record described the containers the plan saw: it now describes the final set. */
async function recordIfItDescribedThePlan(
  ctx: ExecContext,
  plan: PlanFor<'scale'>,
  service: string,
): Promise<void> {
  const current = await ctx.releases.currentRelease(service);
  const before = plan.preconditions.containers.map((c) => c.id).sort();
  if (!current || JSON.stringify(current.containers.map((c) => c.id).sort()) !== JSON.stringify(before))
    return;
  const resolved = resolveTarget(service, await ctx.docker.listContainers());
  if (!resolved.ok) return;
  await recordScaledSet(
    ctx,
    current,
    await inspectActive(ctx, resolved.service),
    plan.environment,
    plan.desired.replicas,
  );
}
