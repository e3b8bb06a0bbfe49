import type { RestartPolicy } from '../docker/docker-objects.js';
import { rollbackComposeService } from './compose/compose-rollback.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { ReleaseOutcome } from './release-outcome.js';
import type { ExecContext, ExecMeta } from './exec-context.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { runOperation, type Operation, inspectTarget, NOTHING_CHANGED } from './operation-prelude.js';
import { createOptionsFromRecord, ReleaseNotRestorableError } from '../releases/release-config.js';
import type { ReplicaStep } from './replica-switch.js';
import { rollbackTarget } from './rollback-target.js';
import { shortImageId, writeServiceRollbackDoc } from './release-bookkeeping.js';
import { routeFollows } from './route-follows.js';
import { type ReleaseRecord, releaseSummary } from '../releases/release-store.js';
import { nameOf } from './target-containers.js';
import { healthWords, secondsText } from './outcome-words.js';
import {
  adoptRunning,
  freeKeptName,
  releaseLabels,
  replicaData,
  type SwitchedRelease,
  switchRelease,
  takenNames,
} from './release-skeleton.js';

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
  return runOperation(
    `rollback of ${service.name} failed`,
    ctx,
    service,
    meta,
    (op) => rollback(op, toRelease),
    (err) =>
      err instanceof ReleaseNotRestorableError
        ? { ok: false, code: 'rollback_unavailable', message: `${err.message}; ${NOTHING_CHANGED}` }
        : null,
  );
}

async function rollback(op: Operation, toRelease: string | null): Promise<ReleaseOutcome> {
  const { ctx, service, meta, name, started } = op;
  // Compose services: through the compose CLI with the project's own files (compose-rollback.ts).
  if (service.composeProject) return rollbackComposeService(ctx, service, toRelease, meta);
  const inspected = await inspectTarget(ctx, service, 'roll it back');
  if (!inspected.ok) return inspected.outcome;
  const infos = inspected.infos;

  // Containers changed by hand since Helm's last record: recorded, so they can be restored.
  const { current, adopted } = await adoptRunning(ctx, name, infos, meta);
  const chosen = await rollbackTarget(ctx, name, toRelease, current, meta);
  if (!chosen.ok) return chosen.outcome;
  const target = chosen.target;
  if (current && target.id === current.id && infos.every((i) => i.State.Running))
    return {
      ok: true,
      outcome: `${name} already runs ${target.id}; nothing to do`,
      data: { release: target.id },
      release: releaseSummary(target),
    };

  const labels = releaseLabels(meta.opId, target.id, current?.id ?? null);
  const built = await rollbackSteps(ctx, { infos, target, current, labels });
  if (!('steps' in built)) return built;
  const { steps, recreated } = built;

  const to = `${target.id} (${target.image}, ${shortImageId(target.image_id)})`;
  const switched = await switchRelease(ctx, service, meta, {
    steps,
    adopted,
    // Restored on failure: what ran before the rollback (null: nothing did).
    restoring: current,
    expected: { release: target.id, imageId: target.image_id },
    failed: (r) => ({
      message: r.restored
        ? `rollback of ${name} to ${to} failed: ${r.failure}. ${current ? `${current.id} runs again and is healthy (${healthWords(r.restoreDetail)})` : 'Nothing runs (nothing ran before)'}`
        : `rollback of ${name} to ${to} failed: ${r.failure}. Restoring ${current?.id ?? 'the previous state'} failed: ${r.restoreDetail}`,
      docEvent: `failed rollback to ${target.id}`,
      docPrevious: target,
    }),
  });
  if (!switched.ok) return switched.outcome;
  // Recreated replicas have new container ids.
  const ids = new Map(switched.switched.replicas.map((r) => [r.name, r.id]));
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
  // A routed service: the proxy's route follows the containers that run now (route-follows.ts).
  const routed = await routeFollows(
    ctx,
    name,
    switched.switched.replicas.map((r) => r.id),
  ).catch((err: Error) => err);
  if (routed instanceof Error)
    return {
      ok: false,
      code: 'rollback_failed',
      message: `${name} runs ${target.id} again (recorded), but the proxy's route could not be pointed at it: ${routed.message}`,
    };

  const how =
    recreated === 0
      ? 'its kept containers started again'
      : recreated === steps.filter((s) => s.next).length
        ? 'recreated from its record'
        : `${recreated} of its containers recreated from its record`;
  return rolledBack(updated, switched.switched, { name, to, how, current, recreated, started });
}

/**
 * The replica steps of a rollback, as data: each replica of the target release back from its kept
 * container when that still exists, else created again from the record; the current replicas it
 * replaces stopped and kept, and the current release's extra replicas stopped and kept too.
 */
async function rollbackSteps(
  ctx: ExecContext,
  d: {
    infos: readonly ContainerInspect[];
    target: ReleaseRecord;
    current: ReleaseRecord | null;
    labels: Record<string, string>;
  },
): Promise<{ steps: ReplicaStep[]; recreated: number } | ReleaseOutcome> {
  const { infos, target, current } = d;
  const taken = await takenNames(ctx);
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
      const made = await recreatedFromRecord(ctx, target, c, d.labels);
      if (!made.ok) return made.outcome;
      next = { kind: 'create', options: made.options, allowedFrom: old, expectImageId: target.image_id };
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
  return { steps, recreated };
}

/** A replica of the target release whose kept container is gone: its create options, from the record. */
async function recreatedFromRecord(
  ctx: ExecContext,
  target: ReleaseRecord,
  c: ReleaseRecord['containers'][number],
  labels: Record<string, string>,
): Promise<
  | { ok: true; options: Awaited<ReturnType<typeof createOptionsFromRecord>> }
  | { ok: false; outcome: ReleaseOutcome }
> {
  const image = await ctx.docker.findImage(target.image_id);
  if (!image)
    return {
      ok: false,
      outcome: {
        ok: false,
        code: 'rollback_unavailable',
        message: `release ${target.id}'s kept container ${c.name} is gone and its image ${target.image_id} is no longer on the engine; ${NOTHING_CHANGED}`,
      },
    };
  const tagged = target.release_tag ? await ctx.docker.findImage(target.release_tag) : null;
  const imageRef = tagged?.Id === target.image_id ? target.release_tag! : target.image_id;
  const options = await createOptionsFromRecord(c.config, {
    name: c.name,
    imageRef,
    helmLabels: labels,
    ...(ctx.secrets ? { secrets: ctx.secrets } : {}),
  });
  return { ok: true, options };
}

function rolledBack(
  updated: ReleaseRecord,
  switched: SwitchedRelease,
  d: {
    name: string;
    to: string;
    how: string;
    current: ReleaseRecord | null;
    recreated: number;
    started: number;
  },
): ReleaseOutcome {
  const keptText = d.current ? `; ${d.current.id} kept` : '';
  const ms = performance.now() - d.started;
  return {
    ok: true,
    outcome: `rolled back ${d.name} to ${d.to} in ${secondsText(ms)} (${d.how}); healthy: ${healthWords(switched.replicas[0]?.detail ?? 'running')}${keptText}`,
    data: {
      release: updated.id,
      from_release: d.current?.id ?? null,
      recreated: d.recreated,
      stops: switched.stops,
      containers: replicaData(switched.replicas),
      ms: Math.round(ms),
    },
    release: releaseSummary(updated),
  };
}
