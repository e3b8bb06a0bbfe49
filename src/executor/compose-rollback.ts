import type { ResolvedService } from '../docker/target-resolution.js';
import { composeData, withContainers, writeDoc } from './compose-deploy.js';
import {
  COMPOSE_STEP,
  type ComposeExecContext,
  ensureReleaseTag,
  gateComposeRelease,
  pinAndUp,
  pinLabels,
  prepareComposeTarget,
  restoreComposeRelease,
} from './compose-release.js';
import type { ReleaseOutcome } from './release-outcome.js';
import type { ExecMeta } from './exec-context.js';
import { atOperationEdge, NOTHING_CHANGED, withOpId } from './operation-prelude.js';
import { recordOf, shortImageId, tagReleaseImage } from './release-records.js';
import { recordedReleaseOf } from '../releases/release-info.js';
import { type ReleaseRecord, releaseSummary } from '../releases/release-store.js';
import { healthWords, secondsText } from './service-state.js';
import { failedReleaseOutcome } from './failed-release.js';

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
  return atOperationEdge(`compose rollback of ${service.name} failed`, () =>
    rollback(ctx, service, toRelease, withOpId(meta)),
  );
}

async function rollback(
  ctx: ComposeExecContext,
  service: ResolvedService,
  toRelease: string | null,
  meta: ExecMeta & { opId: string },
): Promise<ReleaseOutcome> {
  const started = performance.now();
  const name = service.name;
  const nothing = NOTHING_CHANGED;
  const prepared = await prepareComposeTarget(ctx, service, 'roll back');
  if (!prepared.ok) return prepared.outcome;
  const t = prepared.target;

  let current = await recordedReleaseOf(ctx, name, t.infos);
  let adopted: ReleaseRecord | null = null;
  if (!current) {
    // Containers changed by hand (or by the owner's own `up`) since Helm's last record.
    adopted = recordOf(ctx, {
      id: await ctx.releases.nextReleaseId(name),
      service: name,
      image: t.infos[0]!.Config.Image,
      infos: t.infos,
      manifestDigest: null,
      artifactId: null,
      meta,
      adopted: true,
      previous: (await ctx.releases.currentRelease(name))?.id ?? null,
    });
    current = adopted;
  }
  const known = (await ctx.releases.listReleases(name)).map((r) => r.id);
  const targetId = toRelease ?? current.previous;
  if (!targetId)
    return {
      ok: false,
      code: 'rollback_unavailable',
      message: `${name} has no earlier release to roll back to (${current.id} replaced none); ${nothing}`,
    };
  const target = await ctx.releases.getRelease(name, targetId);
  if (!target)
    return {
      ok: false,
      code: 'rollback_unavailable',
      message: `${name} has no release ${targetId} (recorded: ${known.join(', ') || 'none'}); ${nothing}`,
    };
  if (meta.expectImageId && meta.expectImageId !== target.image_id)
    return {
      ok: false,
      code: 'stale_plan',
      message: `release ${target.id} of ${name} is image ${target.image_id}, not ${meta.expectImageId} as the plan says; ${nothing}`,
    };
  if (!adopted && target.id === current.id && t.infos.every((i) => i.State.Running))
    return {
      ok: true,
      outcome: `${name} already runs ${target.id}; nothing to do`,
      data: { release: target.id },
      release: releaseSummary(target),
    };
  if (!(await ctx.docker.findImage(target.image_id)))
    return {
      ok: false,
      code: 'rollback_unavailable',
      message: `release ${target.id}'s image ${target.image_id} is no longer on the engine; ${nothing}`,
    };

  if (adopted) {
    await tagReleaseImage(ctx, adopted);
    await ctx.releases.saveRelease(adopted, { current: true });
  }
  const image = await ensureReleaseTag(ctx, target);
  if (!image)
    return {
      ok: false,
      code: 'rollback_unavailable',
      message: `release ${target.id}'s image ${target.image_id} is no longer on the engine; ${nothing}`,
    };

  const to = `${target.id} (${target.image}, ${shortImageId(target.image_id)})`;
  const up = await pinAndUp(
    t,
    { image, labels: pinLabels(meta.opId, target.id, current.id) },
    { pin: COMPOSE_STEP.pin, up: COMPOSE_STEP.up },
  );
  const gate = up.ok
    ? await gateComposeRelease(
        t,
        service,
        { release: target.id, imageId: target.image_id },
        ctx.stabilityWindowMs,
      )
    : null;
  if (!up.ok || !gate?.ok) {
    const failure = !up.ok ? up.failure : gate && !gate.ok ? gate.failure : 'unknown';
    const restore = await restoreComposeRelease(t, service, current, meta.opId);
    const message = restore.restored
      ? `compose rollback of ${name} to ${to} failed: ${failure}. ${current.id} runs again and is healthy (${healthWords(restore.detail)})`
      : `compose rollback of ${name} to ${to} failed: ${failure}. Restoring ${current.id} failed: ${restore.detail}`;
    const now = restore.restored ? await withContainers(t, current, restore.replicas) : current;
    await writeDoc(t, meta.environment, `failed rollback to ${target.id}`, now, target);
    return failedReleaseOutcome(ctx, {
      restored: restore.restored,
      message,
      failedRelease: target.id,
      restoredRelease: current.id,
      failure: failure,
      failedReplica: gate && !gate.ok ? gate.failedReplica : null,
      lastLogs: gate && !gate.ok ? gate.lastLogs : [],
      ms: Math.round(performance.now() - started),
      extra: { compose: composeData(t) },
    });
  }

  const updated = await withContainers(t, target, gate.replicas);
  await writeDoc(t, meta.environment, `rollback from ${current.id} to ${target.id}`, updated, current);
  const ms = performance.now() - started;
  return {
    ok: true,
    outcome: `rolled back ${name} to ${to} in ${secondsText(ms)} with ${t.cli.name} (compose project ${t.project.name}); healthy: ${healthWords(gate.replicas[0]?.detail ?? 'running')}; ${current.id}'s image kept`,
    data: {
      release: target.id,
      from_release: current.id,
      containers: gate.replicas.map((r) => ({
        name: r.name,
        id: r.id.slice(0, 12),
        check: r.check,
        detail: r.detail,
      })),
      compose: composeData(t),
      ms: Math.round(ms),
    },
    release: releaseSummary(updated),
  };
}
