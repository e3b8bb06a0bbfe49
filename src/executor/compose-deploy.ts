import type { ResolvedService } from '../docker/target-resolution.js';
import { checkNewRelease } from './artifact.js';
import {
  COMPOSE_STEP,
  type ComposeExecContext,
  type ComposeTarget,
  type GatedReplica,
  gateComposeRelease,
  inspectComposeService,
  logsOfImage,
  pinAndUp,
  pinLabels,
  prepareComposeTarget,
  restoreComposeRelease,
} from './compose-release.js';
import { writeComposeRollbackDoc } from './compose-rollback-doc.js';
import type { DeployDesired, ReleaseOutcome } from './release-outcome.js';
import { announce, type ExecMeta, rethrowAbort } from './exec-context.js';
import { atOperationEdge, withOpId } from './operation-prelude.js';
import { recordOf, shortImageId, tagReleaseImage } from './release-records.js';
import { recordedReleaseOf } from '../releases/release-info.js';
import { type ReleaseRecord, releaseSummary, releaseTag } from '../releases/release-store.js';
import { healthWords, secondsText } from './service-state.js';
import { STEP } from './steps.js';
import { failedReleaseOutcome } from './failed-release.js';

/**
 * Deploys a new release of a compose service through the compose CLI:
 *  1. checks (nothing changed yet): the service's containers and protected roles, the project's
 *     files where Helm runs, a compose CLI, the release id, the artifact (verifyArtifact);
 *  2. the containers Helm found without a record become a release of their own (tag_release_image);
 *  3. tag_release_image for the new release: Helm's tag names exactly the verified image id;
 *  4. compose_pin: Helm's override pins that tag (and labels helm.op/helm.release/helm.previous);
 *     compose_up: `up --detach --no-deps --no-build --force-recreate --scale <svc>=<n> <svc>` with
 *     the project's files and the override;
 *  5. the health gate (the containers compose made, from the verified image, healthy, stable through
 *     the stability window); any failure pins the previous release again and `up` again
 *     (compose_pin_restore, compose_up_restore), checked healthy: rolled_back, or rollback_failed;
 *  6. the release record and the rollback document.
 */
export async function deployComposeService(
  ctx: ComposeExecContext,
  service: ResolvedService,
  desired: DeployDesired,
  meta: ExecMeta,
): Promise<ReleaseOutcome> {
  return atOperationEdge(`compose deploy of ${desired.image} to ${service.name} failed`, () =>
    deploy(ctx, service, desired, withOpId(meta)),
  );
}

async function deploy(
  ctx: ComposeExecContext,
  service: ResolvedService,
  desired: DeployDesired,
  meta: ExecMeta & { opId: string },
): Promise<ReleaseOutcome> {
  const started = performance.now();
  const name = service.name;
  const prepared = await prepareComposeTarget(ctx, service, 'deploy');
  if (!prepared.ok) return prepared.outcome;
  const t = prepared.target;
  const check = await checkNewRelease(ctx, name, desired, meta.environment);
  if (!check.ok) return { ok: false, code: check.code, message: check.message };
  const artifact = check.artifact;

  let previous = await recordedReleaseOf(ctx, name, t.infos);
  if (!previous) {
    previous = recordOf(ctx, {
      id: await adoptedId(ctx, name, desired),
      service: name,
      image: t.infos[0]!.Config.Image,
      infos: t.infos,
      manifestDigest: null,
      artifactId: null,
      meta,
      adopted: true,
      previous: null,
    });
    await tagReleaseImage(ctx, previous);
    await ctx.releases.saveRelease(previous, { current: true });
  }

  const tag = releaseTag(name, desired.new_release);
  await announce(ctx, STEP.tagReleaseImage, {
    release: desired.new_release,
    image: artifact.imageId,
    tag: tag.ref,
  });
  await ctx.docker.tagImage(artifact.imageId, tag.repo, tag.tag);

  const where = `${desired.image} (${shortImageId(artifact.imageId)})`;
  const note = `release ${desired.new_release}: ${desired.image} (${artifact.imageId})${desired.artifact_id ? `, artifact ${desired.artifact_id}` : ''}`;
  const up = await pinAndUp(
    t,
    { image: tag.ref, labels: pinLabels(meta.opId, desired.new_release, previous.id) },
    { pin: COMPOSE_STEP.pin, up: COMPOSE_STEP.up },
    note,
  );
  const gate = up.ok
    ? await gateComposeRelease(
        t,
        service,
        { release: desired.new_release, imageId: artifact.imageId },
        ctx.stabilityWindowMs,
      )
    : null;

  if (!up.ok || !gate?.ok) {
    const failure = !up.ok ? up.failure : gate && !gate.ok ? gate.failure : 'unknown';
    const logs = gate && !gate.ok ? gate.lastLogs : await logsOfImage(t, artifact.imageId);
    ctx.logger.warn(
      { failure: true, service: name, reason: ctx.redactor.redact(failure) },
      'compose deploy failed; pinning the previous release again',
    );
    const restore = await restoreComposeRelease(t, service, previous, meta.opId);
    const message = restore.restored
      ? `compose deploy of ${where} to ${name} as ${desired.new_release} failed: ${failure}. Rolled back: ${previous.id} runs again and is healthy (${healthWords(restore.detail)})`
      : `compose deploy of ${where} to ${name} as ${desired.new_release} failed: ${failure}. Rolling back to ${previous.id} failed: ${restore.detail}`;
    await writeDoc(
      t,
      meta.environment,
      `failed deploy of ${desired.new_release} (${restore.restored ? 'rolled back' : 'rollback failed'})`,
      restore.restored ? await withContainers(t, previous, restore.replicas) : previous,
    );
    return failedReleaseOutcome(ctx, {
      restored: restore.restored,
      message,
      failedRelease: desired.new_release,
      restoredRelease: previous.id,
      failure: failure,
      failedReplica: gate && !gate.ok ? gate.failedReplica : null,
      lastLogs: logs,
      ms: Math.round(performance.now() - started),
      extra: { compose: composeData(t) },
    });
  }

  try {
    const newInfos = await inspectComposeService(
      t,
      gate.replicas.map((r) => r.id),
    );
    const record = recordOf(ctx, {
      id: desired.new_release,
      service: name,
      image: desired.image,
      infos: newInfos,
      manifestDigest: artifact.manifestDigest,
      artifactId: desired.artifact_id,
      meta,
      adopted: false,
      previous: previous.id,
    });
    await ctx.releases.saveRelease(record, { current: true });
    await writeDoc(t, meta.environment, `deploy of ${record.id}`, record, previous);
    const ms = performance.now() - started;
    return {
      ok: true,
      outcome: `deployed ${name} ${where} as ${record.id} in ${secondsText(ms)} with ${t.cli.name} (compose project ${t.project.name}); ${previous.id}'s image kept for rollback`,
      data: {
        release: record.id,
        previous_release: previous.id,
        containers: gate.replicas.map((r) => ({
          name: r.name,
          id: r.id.slice(0, 12),
          check: r.check,
          detail: r.detail,
        })),
        compose: composeData(t),
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

/** What a compose result's data names: the project, the CLI, the override. */
export function composeData(t: ComposeTarget): Record<string, unknown> {
  return {
    project: t.project.name,
    working_dir: t.project.workingDir,
    config_files: t.project.configFiles,
    override: t.overrideFile,
    cli: `${t.cli.name} ${t.cli.version}`.trim(),
  };
}

/** The rollback document for a compose service; `previous` defaults to the release `current` replaced. */
export async function writeDoc(
  t: ComposeTarget,
  environment: string,
  event: string,
  current: ReleaseRecord,
  previous?: ReleaseRecord | null,
): Promise<string> {
  const prev =
    previous !== undefined
      ? previous
      : current.previous
        ? await t.ctx.releases.getRelease(t.service, current.previous)
        : null;
  return writeComposeRollbackDoc(t.ctx.memoryDir, {
    service: t.service,
    composeService: t.composeService,
    environment,
    event,
    at: t.ctx.clock.now().toISOString(),
    current,
    previous: prev,
    project: t.project,
    overrideFile: t.overrideFile,
    cli: t.cli,
    replicas: t.replicas,
  });
}

/**
 * A release that runs again in new containers (compose recreated them): its record gets their ids,
 * and it is current again, so the next deploy or rollback recognises what runs as that release.
 */
export async function withContainers(
  t: ComposeTarget,
  release: ReleaseRecord,
  replicas: readonly GatedReplica[],
): Promise<ReleaseRecord> {
  const ids = new Map(replicas.map((r) => [r.name, r.id]));
  const updated: ReleaseRecord = {
    ...release,
    containers: release.containers.map((c, i) => ({
      ...c,
      id: ids.get(c.name) ?? replicas[i]?.id ?? c.id,
    })),
  };
  await t.ctx.releases.saveRelease(updated, { current: true });
  return updated;
}

/** The id for the containers Helm found: the plan's replaces_release when free, else the next number. */
async function adoptedId(ctx: ComposeExecContext, service: string, desired: DeployDesired): Promise<string> {
  const wanted = desired.replaces_release;
  if (wanted && wanted !== desired.new_release && !(await ctx.releases.getRelease(service, wanted)))
    return wanted;
  const next = await ctx.releases.nextReleaseId(service);
  if (next !== desired.new_release) return next;
  return `r${Number(next.slice(1)) + 1}`;
}
