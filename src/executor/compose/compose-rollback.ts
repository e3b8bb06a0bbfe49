import type { ResolvedService } from '../../docker/target-resolution.js';
import { releaseSummary } from '../../releases/release-store.js';
import type { ExecMeta } from '../exec-context.js';
import { healthWords, secondsText } from '../outcome-words.js';
import { runOperation, type Operation, NOTHING_CHANGED } from '../operation-prelude.js';
import { shortImageId } from '../release-bookkeeping.js';
import type { ReleaseOutcome } from '../release-outcome.js';
import { adoptRunning, replicaData, saveAdopted } from '../release-skeleton.js';
import { rollbackTarget } from '../rollback-target.js';
import {
  composeData,
  ensureReleaseTag,
  switchComposeRelease,
  withContainers,
  writeComposeDoc,
} from './compose-release.js';
import { type ComposeExecContext, prepareComposeTarget } from './compose-target.js';

/**
 * Rolls a compose service back to a recorded release (`toRelease`, default: the release the current
 * one replaced): Helm's override pins that release's image again (Helm's release tag, tagged again
 * when it was removed while the image is still there) and `up` replaces the service's containers.
 * Health-gated like a deploy (health check and stability window); a failure pins the current release
 * again (rolled_back) or reports that it could not (rollback_failed). Compose removes the containers
 * it replaces, so a compose release comes back from its image, never from a kept container.
 */
export async function rollbackComposeService(
  ctx: ComposeExecContext,
  service: ResolvedService,
  toRelease: string | null,
  meta: ExecMeta,
): Promise<ReleaseOutcome> {
  return runOperation(`compose rollback of ${service.name} failed`, ctx, service, meta, (op) =>
    rollback(op, toRelease),
  );
}

async function rollback(
  op: Operation<ComposeExecContext>,
  toRelease: string | null,
): Promise<ReleaseOutcome> {
  const { ctx, service, meta, name, started } = op;
  const prepared = await prepareComposeTarget(ctx, service, 'roll back');
  if (!prepared.ok) return prepared.outcome;
  const t = prepared.target;

  // Containers changed by hand (or by the owner's own `up`) since Helm's last record.
  const running = await adoptRunning(ctx, name, t.infos, meta);
  const { adopted } = running;
  const current = running.current!;
  const chosen = await rollbackTarget(ctx, name, toRelease, current, meta);
  if (!chosen.ok) return chosen.outcome;
  const target = chosen.target;
  if (!adopted && target.id === current.id && t.infos.every((i) => i.State.Running))
    return {
      ok: true,
      outcome: `${name} already runs ${target.id}; nothing to do`,
      data: { release: target.id },
      release: releaseSummary(target),
    };
  const gone = {
    ok: false,
    code: 'rollback_unavailable',
    message: `release ${target.id}'s image ${target.image_id} is no longer on the engine; ${NOTHING_CHANGED}`,
  } as const;
  if (!(await ctx.docker.findImage(target.image_id))) return gone;

  await saveAdopted(ctx, adopted);
  const image = await ensureReleaseTag(ctx, target);
  if (!image) return gone;

  const to = `${target.id} (${target.image}, ${shortImageId(target.image_id)})`;
  const switched = await switchComposeRelease(
    t,
    service,
    meta,
    {
      image,
      expected: { release: target.id, imageId: target.image_id },
      restoring: current,
      logsIfUpFailed: async () => [],
      failed: (failure, restore) => ({
        message: restore.restored
          ? `compose rollback of ${name} to ${to} failed: ${failure}. ${current.id} runs again and is healthy (${healthWords(restore.detail)})`
          : `compose rollback of ${name} to ${to} failed: ${failure}. Restoring ${current.id} failed: ${restore.detail}`,
        docEvent: `failed rollback to ${target.id}`,
        docPrevious: target,
      }),
    },
    started,
  );
  if (!switched.ok) return switched.outcome;

  const updated = await withContainers(t, target, switched.replicas);
  await writeComposeDoc(t, meta.environment, `rollback from ${current.id} to ${target.id}`, updated, current);
  const ms = performance.now() - started;
  return {
    ok: true,
    outcome: `rolled back ${name} to ${to} in ${secondsText(ms)} with ${t.cli.name} (compose project ${t.project.name}); healthy: ${healthWords(switched.replicas[0]?.detail ?? 'running')}; ${current.id}'s image kept`,
    data: {
      release: target.id,
      from_release: current.id,
      containers: replicaData(switched.replicas),
      compose: composeData(t),
      ms: Math.round(ms),
    },
    release: releaseSummary(updated),
  };
}
