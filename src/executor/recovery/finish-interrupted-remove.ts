import type { PlanFor } from '../../contracts/index.js';
import { DockerNotFoundError } from '../../docker/docker-errors.js';
import { isKeptContainer } from '../../docker/kept-containers.js';
import { LABEL } from '../../docker/labels.js';
import { resolveTarget } from '../../docker/target-resolution.js';
import type { ExecResult } from '../../exec-job/exec-job.js';
import { announce, type ExecContext } from '../exec-context.js';
import { MAINTENANCE_STEP } from '../maintenance-steps.js';
import { removeService } from '../remove.js';
import { afterCrashWords, type RecoveringIntent } from './interrupted-state.js';

/**
 * Recovery of an interrupted remove: it is completed (the signed plan asked for the service gone),
 * from what Docker shows.
 *  1. Containers of the service that are still there: the removal runs again on them (remove.ts):
 *     stopped, their volumes archived first when the plan asks (an archive is written to a temporary
 *     file and renamed, so a crash never leaves a half archive under its name; a second archive of
 *     the same, stopped data is harmless: archives are the owner's and never deleted), removed.
 *  2. With `volumes: true`, the volumes the removal deletes are named in every step it announced
 *     (the intent's detail), because once their containers are gone nothing else names them. Each
 *     that still exists is deleted, after the service's own kept containers that still mount it;
 *     a volume another service mounts is left, and said.
 * Its own changes are announced (recover_<step>), so a crash during recovery is recovered again.
 */
export async function finishInterruptedRemove(
  ctx: ExecContext,
  intent: RecoveringIntent,
  plan: PlanFor<'remove'>,
): Promise<ExecResult> {
  const words = afterCrashWords(intent);
  const resolved = resolveTarget(intent.service, await ctx.docker.listContainers());
  let done = `${intent.service}'s containers were already removed`;
  if (resolved.ok) {
    const meta = {
      requestId: plan.request_id,
      approvalId: intent.approval_id,
      environment: plan.environment,
      opId: intent.op,
    };
    const rerun = await removeService(ctx, resolved.service, plan.desired, meta);
    if (!rerun.ok) return { ...rerun, message: `recovered ${words}: ${rerun.message}` };
    done = rerun.outcome;
  }
  const volumes = plan.desired.volumes ? volumesNamed(intent.detail) : [];
  const deleted: string[] = [];
  const left: string[] = [];
  for (const volume of volumes) {
    const outcome = await deleteVolume(ctx, intent.service, volume);
    if (outcome === 'deleted') deleted.push(volume);
    else if (outcome !== 'gone') left.push(outcome);
  }
  const data = { recovered: true, crashed_at_step: intent.step, volumes_deleted: deleted };
  const volumeText = deleted.length > 0 ? `; volumes deleted: ${deleted.join(', ')}` : '';
  if (left.length > 0)
    return {
      ok: false,
      code: 'not_supported',
      message: `recovered ${words}: ${done}${volumeText}; but ${left.join('; ')}`,
      data,
    };
  const archived =
    plan.desired.archive && volumes.length > 0 ? ` (archives under archives/${intent.service}/)` : '';
  return {
    ok: true,
    outcome: `recovered ${words}: the removal was completed: ${done}${volumeText}${archived}`,
    data,
  };
}

/** The volumes a remove step named (remove.ts writes them into every step's detail). */
function volumesNamed(detail: Record<string, unknown> | undefined): string[] {
  const v = detail?.['volumes'];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** One volume of the removal: deleted (with the service's kept containers that mount it), gone, or why not. */
async function deleteVolume(
  ctx: ExecContext,
  service: string,
  volume: string,
): Promise<'deleted' | 'gone' | string> {
  const users = await ctx.docker.containersUsingVolume(volume);
  const foreign = users.filter((c) => !(isKeptContainer(c) && c.labels[LABEL.service] === service));
  if (foreign.length > 0)
    return `volume ${volume} is also mounted by ${foreign.map((c) => c.name).join(', ')}, so it was kept`;
  for (const c of users) {
    await announce(ctx, MAINTENANCE_STEP.removeContainer, {
      replica: c.name,
      container: c.id,
      volumes: [volume],
    });
    await ctx.docker.removeContainer(c.id, { force: true, volumes: false });
  }
  await announce(ctx, MAINTENANCE_STEP.removeVolume, { volume, volumes: [volume] });
  try {
    await ctx.docker.removeVolume(volume);
    return 'deleted';
  } catch (err) {
    if (err instanceof DockerNotFoundError) return 'gone';
    throw err;
  }
}
