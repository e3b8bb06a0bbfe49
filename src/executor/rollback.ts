import type { RestartPolicy } from '../docker/docker-client.js';
import { rollbackComposeService } from './compose-rollback.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { ReleaseOutcome } from './release-outcome.js';
import { freeKeptName } from './deploy.js';
import type { ExecContext, ExecMeta } from './exec-context.js';
import { atOperationEdge, inspectTarget, NOTHING_CHANGED, withOpId } from './operation-prelude.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { createOptionsFromRecord, ReleaseNotRestorableError } from '../releases/release-config.js';
import { type ReplicaStep, switchReplicas } from './replica-switch.js';
import { recordOf, shortImageId, tagReleaseImage, writeServiceRollbackDoc } from './release-records.js';
import { recordedReleaseOf } from '../releases/release-info.js';
import { type ReleaseRecord, releaseSummary } from '../releases/release-store.js';
import { healthWords, nameOf, secondsText } from './service-state.js';
import { failedReleaseOutcome } from './failed-release.js';
import { releaseVerifier, restoredVerifier } from './verify-release-identity.js';

/**
 * Rolls a service back to a recorded release (`toRelease`, default: the release the current one
 * replaced). Each replica of the target release comes back from its kept container when that still
 * exists (rename_kept, rearm_kept, start_new), else is created again from the record (create_new,
 * from Helm's release tag; secret references read from the secret store). The current replicas are
 * stopped and kept (stop_old, disarm_old, rename_old). Health-gated like a deploy (health check and
 * stability window per replica); a failure restores the current release (rolled_back) or reports
 * that it could not (rollback_failed).
 */
export async function rollbackService(
  ctx: ExecContext,
  service: ResolvedService,
  toRelease: string | null,
  meta: ExecMeta,
): Promise<ReleaseOutcome> {
  return atOperationEdge(
    `rollback of ${service.name} failed`,
    () => rollback(ctx, service, toRelease, withOpId(meta)),
    (err) =>
      err instanceof ReleaseNotRestorableError
        ? { ok: false, code: 'rollback_unavailable', message: `${err.message}; ${NOTHING_CHANGED}` }
        : null,
  );
}

async function rollback(
  ctx: ExecContext,
  service: ResolvedService,
  toRelease: string | null,
  meta: ExecMeta,
): Promise<ReleaseOutcome> {
  const started = performance.now();
  const name = service.name;
  const nothing = NOTHING_CHANGED;
  // Compose services: through the compose CLI with the project's own files (compose-rollback.ts).
  if (service.composeProject) return rollbackComposeService(ctx, service, toRelease, meta);
  const inspected = await inspectTarget(ctx, service, 'roll it back');
  if (!inspected.ok) return inspected.outcome;
  const infos = inspected.infos;

  let current = await recordedReleaseOf(ctx, name, infos);
  let adopted: ReleaseRecord | null = null;
  if (!current && infos.length > 0) {
    // Containers changed by hand since Helm's last record: record them, so they can be restored.
    adopted = recordOf(ctx, {
      id: await ctx.releases.nextReleaseId(name),
      service: name,
      image: infos[0]!.Config.Image,
      infos,
      manifestDigest: null,
      artifactId: null,
      meta,
      adopted: true,
      previous: (await ctx.releases.currentRelease(name))?.id ?? null,
    });
    current = adopted;
  }
  const known = (await ctx.releases.listReleases(name)).map((r) => r.id);
  const targetId = toRelease ?? current?.previous ?? null;
  if (!targetId)
    return {
      ok: false,
      code: 'rollback_unavailable',
      message: `${name} has no earlier release to roll back to (${current ? `${current.id} replaced none` : 'no release is recorded'}); ${nothing}`,
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
  if (current && target.id === current.id && infos.every((i) => i.State.Running))
    return {
      ok: true,
      outcome: `${name} already runs ${target.id}; nothing to do`,
      data: { release: target.id },
      release: releaseSummary(target),
    };

  const helmLabels = {
    [HELM_LABEL.op]: meta.opId ?? '',
    [HELM_LABEL.release]: target.id,
    [HELM_LABEL.previous]: current?.id ?? '',
  };
  const taken = new Set((await ctx.docker.listContainers()).map((c) => c.name));
  const steps: ReplicaStep[] = [];
  const paired = new Set<string>();
  let recreated = 0;
  for (const c of target.containers) {
    const old =
      infos.find((info) => nameOf(info) === c.name) ??
      infos.find((x) => !paired.has(x.Id) && !target.containers.some((t) => t.name === nameOf(x))) ??
      null;
    if (old) paired.add(old.Id);
    const kept = await ctx.docker.inspectContainer(c.id).catch(() => null);
    const usable = kept && kept.Image === target.image_id && !kept.State.Running && kept.Id !== old?.Id;
    let next: ReplicaStep['next'];
    if (usable) {
      const policy = (c.config.host_config['RestartPolicy'] as RestartPolicy | undefined) ?? { Name: 'no' };
      next = { kind: 'kept', id: kept.Id, keptName: nameOf(kept), restartPolicy: policy };
    } else {
      const image = await ctx.docker.findImage(target.image_id);
      if (!image)
        return {
          ok: false,
          code: 'rollback_unavailable',
          message: `release ${target.id}'s kept container ${c.name} is gone and its image ${target.image_id} is no longer on the engine; ${nothing}`,
        };
      const tagged = target.release_tag ? await ctx.docker.findImage(target.release_tag) : null;
      const imageRef = tagged?.Id === target.image_id ? target.release_tag! : target.image_id;
      const options = await createOptionsFromRecord(c.config, {
        name: c.name,
        imageRef,
        helmLabels,
        ...(ctx.secrets ? { secrets: ctx.secrets } : {}),
      });
      next = { kind: 'create', options, allowedFrom: old, expectImageId: target.image_id };
      recreated += 1;
    }
    steps.push({
      name: c.name,
      old,
      oldKeptName: old ? freeKeptName(c.name, current!.id, old, taken) : null,
      next,
    });
  }
  // The current release has more replicas than the target: the extra ones are stopped and kept.
  for (const old of infos.filter((x) => !paired.has(x.Id)))
    steps.push({
      name: nameOf(old),
      old,
      oldKeptName: freeKeptName(nameOf(old), current!.id, old, taken),
      next: null,
    });

  if (adopted) {
    await tagReleaseImage(ctx, adopted);
    await ctx.releases.saveRelease(adopted, { current: true });
  }

  const result = await switchReplicas(
    ctx,
    steps,
    releaseVerifier(ctx, service, { release: target.id, imageId: target.image_id }),
    restoredVerifier(ctx, service, current),
  );
  const to = `${target.id} (${target.image}, ${shortImageId(target.image_id)})`;
  if (!result.ok) {
    const restored = result.restored;
    const message = restored
      ? `rollback of ${name} to ${to} failed: ${result.failure}. ${current ? `${current.id} runs again and is healthy (${healthWords(result.restoreDetail)})` : 'Nothing runs (nothing ran before)'}`
      : `rollback of ${name} to ${to} failed: ${result.failure}. Restoring ${current?.id ?? 'the previous state'} failed: ${result.restoreDetail}`;
    if (current)
      await writeServiceRollbackDoc(
        ctx,
        name,
        meta.environment,
        `failed rollback to ${target.id}`,
        current,
        target,
      );
    return failedReleaseOutcome(ctx, {
      restored: restored,
      message,
      failedRelease: target.id,
      restoredRelease: current?.id ?? null,
      failure: result.failure,
      failedReplica: result.failedReplica,
      lastLogs: result.lastLogs,
      ms: result.ms,
    });
  }

  // Recreated replicas have new container ids.
  const ids = new Map(result.replicas.map((r) => [r.name, r.id]));
  const updated: ReleaseRecord = {
    ...target,
    containers: target.containers.map((c) => ({ ...c, id: ids.get(c.name) ?? c.id })),
  };
  await ctx.releases.saveRelease(updated, { current: true });
  await writeServiceRollbackDoc(
    ctx,
    name,
    meta.environment,
    `rollback from ${current?.id ?? 'nothing'} to ${target.id}`,
    updated,
    current,
  );
  const how =
    recreated === 0
      ? 'its kept containers started again'
      : recreated === steps.filter((s) => s.next).length
        ? 'recreated from its record'
        : `${recreated} of its containers recreated from its record`;
  const keptText = current ? `; ${current.id} kept` : '';
  const ms = performance.now() - started;
  return {
    ok: true,
    outcome: `rolled back ${name} to ${to} in ${secondsText(ms)} (${how}); healthy: ${healthWords(result.replicas[0]?.detail ?? 'running')}${keptText}`,
    data: {
      release: target.id,
      from_release: current?.id ?? null,
      recreated,
      stops: result.stops,
      containers: result.replicas.map((r) => ({
        name: r.name,
        id: r.id.slice(0, 12),
        check: r.check,
        detail: r.detail,
      })),
      ms: Math.round(ms),
    },
    release: releaseSummary(updated),
  };
}
