import type { ContainerInspect } from '../docker/docker-client.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { strategyRefusal } from '../observe/cannot-do.js';
import { checkNewRelease } from './artifact.js';
import { deployComposeService } from './compose-deploy.js';
import { type ExecContext, type ExecMeta, rethrowAbort } from './exec-context.js';
import { atOperationEdge, inspectTarget, NOTHING_CHANGED, withOpId } from './operation-prelude.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { keptName } from '../docker/kept-containers.js';
import { recreateOptions } from './recreate-config.js';
import { type ReplicaStep, switchReplicas } from './replica-switch.js';
import { recordOf, shortImageId, tagReleaseImage, writeServiceRollbackDoc } from './release-records.js';
import { recordedReleaseOf } from '../releases/release-info.js';
import { type ReleaseRecord, releaseSummary } from '../releases/release-store.js';
import type { DeployDesired, ReleaseOutcome } from './release-outcome.js';
import { createOptionsFromDefinition } from './service-definition.js';
import { healthWords, nameOf, secondsText } from './service-state.js';
import { failedReleaseOutcome } from './failed-release.js';
import { releaseVerifier, restoredVerifier } from './verify-release-identity.js';

export type { DeployDesired, ReleaseOutcome } from './release-outcome.js';

// What this Helm cannot deploy is decided in one place, which the gate asks before Warden is (cannot-do.ts).
export { START_FIRST_REFUSAL } from '../observe/cannot-do.js';

/**
 * Deploys a new release with the `recreate` strategy:
 *  1. checks (nothing changed yet): strategy, compose, protected roles, the artifact (verifyArtifact:
 *     image_id / manifest_digest, pulling repository@digest when needed), the new containers'
 *     configuration (recreateOptions: the old container's own settings on the new image's defaults;
 *     an image that brings identity labels is refused);
 *  2. the containers Helm found without a record become a release of their own (tag_release_image);
 *  3. switchReplicas: one replica at a time stop_old, disarm_old, rename_old (kept), create_new,
 *     start_new, health check, stability window; any failure undoes the replaced replicas and checks
 *     them healthy (rolled_back; rollback_failed when they cannot be restored), with the failed
 *     container's last log lines;
 *  4. tag_release_image for the new release, its record, and the rollback document.
 */
export async function deployService(
  ctx: ExecContext,
  service: ResolvedService,
  desired: DeployDesired,
  meta: ExecMeta,
): Promise<ReleaseOutcome> {
  return atOperationEdge(`deploy of ${desired.image} to ${service.name} failed`, () =>
    deploy(ctx, service, desired, withOpId(meta)),
  );
}

async function deploy(
  ctx: ExecContext,
  service: ResolvedService,
  desired: DeployDesired,
  meta: ExecMeta,
): Promise<ReleaseOutcome> {
  const started = performance.now();
  const name = service.name;
  const nothing = NOTHING_CHANGED;
  const strategyProblem = strategyRefusal(desired.strategy);
  if (strategyProblem) return { ok: false, code: 'unavailable', message: strategyProblem };
  // Compose services: through the compose CLI with the project's own files (compose-deploy.ts).
  if (service.composeProject) return deployComposeService(ctx, service, desired, meta);

  const inspected = await inspectTarget(ctx, service, 'deploy it');
  if (!inspected.ok) return inspected.outcome;
  const infos = inspected.infos;
  const definition = infos.length === 0 ? ((await ctx.definitions?.(name)) ?? null) : null;
  if (infos.length === 0 && !definition)
    return {
      ok: false,
      code: 'unknown_target',
      message: `${name} has no container yet and the owner's services file does not define it; ${nothing}`,
    };
  const check = await checkNewRelease(ctx, name, desired, meta.environment);
  if (!check.ok) return { ok: false, code: check.code, message: check.message };
  const artifact = check.artifact;

  // What runs now: a recorded release, or containers Helm found, recorded now as a release.
  let previous = await recordedReleaseOf(ctx, name, infos);
  let adopted: ReleaseRecord | null = null;
  if (!previous && infos.length > 0) {
    adopted = recordOf(ctx, {
      id: await adoptedId(ctx, name, desired),
      service: name,
      image: infos[0]!.Config.Image,
      infos,
      manifestDigest: null,
      artifactId: null,
      meta,
      adopted: true,
      previous: null,
    });
    previous = adopted;
  }
  const helmLabels = {
    [HELM_LABEL.op]: meta.opId ?? '',
    [HELM_LABEL.release]: desired.new_release,
    [HELM_LABEL.previous]: previous?.id ?? '',
  };

  const steps: ReplicaStep[] = [];
  const taken = new Set((await ctx.docker.listContainers()).map((c) => c.name));
  for (const info of infos) {
    const oldImage = await ctx.docker.findImage(info.Image);
    const r = recreateOptions({
      old: info,
      oldImage,
      newImage: artifact.image,
      imageRef: artifact.imageRef,
      name: nameOf(info),
      helmLabels,
    });
    if (!r.ok) return { ok: false, code: 'artifact_mismatch', message: `${r.problem}; ${nothing}` };
    steps.push({
      name: nameOf(info),
      old: info,
      oldKeptName: freeKeptName(nameOf(info), previous!.id, info, taken),
      next: { kind: 'create', options: r.options, allowedFrom: info, expectImageId: artifact.imageId },
    });
  }
  if (definition) {
    for (let i = 0; i < (definition.replicas ?? 1); i++) {
      const options = createOptionsFromDefinition(
        name,
        definition,
        artifact.imageRef,
        meta.environment,
        i,
        helmLabels,
      );
      steps.push({
        name: options.name!,
        old: null,
        oldKeptName: null,
        next: { kind: 'create', options, allowedFrom: null, expectImageId: artifact.imageId },
      });
    }
  }

  if (adopted) {
    await tagReleaseImage(ctx, adopted);
    await ctx.releases.saveRelease(adopted, { current: true });
  }

  const result = await switchReplicas(
    ctx,
    steps,
    releaseVerifier(ctx, service, { release: desired.new_release, imageId: artifact.imageId }),
    restoredVerifier(ctx, service, previous),
  );
  const where = `${desired.image} (${shortImageId(artifact.imageId)})`;
  if (!result.ok) {
    const first = !previous;
    const restored = result.restored;
    const message = first
      ? `deploy of ${where} to ${name} as ${desired.new_release} failed: ${result.failure}. It was ${name}'s first release: ${
          restored
            ? 'the new container was removed and nothing runs'
            : `cleaning up failed: ${result.restoreDetail}`
        }`
      : restored
        ? `deploy of ${where} to ${name} as ${desired.new_release} failed: ${result.failure}. Rolled back: ${previous!.id} runs again and is healthy (${healthWords(result.restoreDetail)})`
        : `deploy of ${where} to ${name} as ${desired.new_release} failed: ${result.failure}. Rolling back to ${previous!.id} failed: ${result.restoreDetail}`;
    if (previous)
      await writeServiceRollbackDoc(
        ctx,
        name,
        meta.environment,
        `failed deploy of ${desired.new_release} (${restored ? 'rolled back' : 'rollback failed'})`,
        previous,
      );
    return failedReleaseOutcome(ctx, {
      restored: restored,
      message,
      failedRelease: desired.new_release,
      restoredRelease: previous?.id ?? null,
      failure: result.failure,
      failedReplica: result.failedReplica,
      lastLogs: result.lastLogs,
      ms: result.ms,
    });
  }

  try {
    const newInfos = await Promise.all(result.replicas.map((r) => ctx.docker.inspectContainer(r.id)));
    const record = recordOf(ctx, {
      id: desired.new_release,
      service: name,
      image: desired.image,
      infos: newInfos,
      manifestDigest: artifact.manifestDigest,
      artifactId: desired.artifact_id,
      meta,
      adopted: false,
      previous: previous?.id ?? null,
    });
    await tagReleaseImage(ctx, record);
    await ctx.releases.saveRelease(record, { current: true });
    await writeServiceRollbackDoc(ctx, name, meta.environment, `deploy of ${record.id}`, record, previous);
    const keptText = previous ? `; ${previous.id} kept for rollback` : '';
    const ms = performance.now() - started;
    return {
      ok: true,
      outcome: `deployed ${name} ${where} as ${record.id} in ${secondsText(ms)}${keptText}`,
      data: {
        release: record.id,
        previous_release: previous?.id ?? null,
        containers: result.replicas.map((r) => ({
          name: r.name,
          id: r.id.slice(0, 12),
          check: r.check,
          detail: r.detail,
        })),
        kept: previous ? steps.map((s) => s.oldKeptName) : [],
        stops: result.stops,
        ms: Math.round(ms),
      },
      release: releaseSummary(record),
    };
  } catch (err) {
    rethrowAbort(err);
    return {
      ok: false,
      code: 'internal',
      message: `${name} runs ${desired.new_release} (${where}) and passed its health gate, but Helm could not record the release: ${(err as Error).message}`,
    };
  }
}

/** The id for the containers Helm found: the plan's replaces_release when free, else the next number. */
async function adoptedId(ctx: ExecContext, service: string, desired: DeployDesired): Promise<string> {
  const wanted = desired.replaces_release;
  if (wanted && wanted !== desired.new_release && !(await ctx.releases.getRelease(service, wanted)))
    return wanted;
  const next = await ctx.releases.nextReleaseId(service);
  if (next !== desired.new_release) return next;
  return `r${Number(next.slice(1)) + 1}`;
}

export function freeKeptName(
  name: string,
  release: string,
  info: ContainerInspect,
  taken: Set<string>,
): string {
  const plain = keptName(name, release);
  if (!taken.has(plain) || plain === nameOf(info)) return plain;
  return keptName(`${name}-${info.Id.slice(0, 8)}`, release);
}
