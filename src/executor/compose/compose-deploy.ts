import type { ResolvedService } from '../../docker/target-resolution.js';
import { type ReleaseRecord, releaseSummary, releaseTag } from '../../releases/release-store.js';
import { type Artifact, checkNewRelease } from '../artifact.js';
import { announce, type ExecMeta } from '../exec-context.js';
import { rolledBackWords } from '../failed-release.js';
import { runOperation, type Operation } from '../operation-prelude.js';
import { recordOf, shortImageId } from '../release-bookkeeping.js';
import type { DeployDesired, ReleaseOutcome } from '../release-outcome.js';
import { adoptedIdFor, adoptRunning, notRecorded, replicaData, saveAdopted } from '../release-skeleton.js';
import { secondsText } from '../outcome-words.js';
import { STEP } from '../steps.js';
import { type GatedReplica, inspectComposeService, logsOfImage } from './compose-gate.js';
import { composeData, switchComposeRelease, writeComposeDoc } from './compose-release.js';
import { type ComposeExecContext, type ComposeTarget, prepareComposeTarget } from './compose-target.js';

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
  return runOperation(
    `compose deploy of ${desired.image} to ${service.name} failed`,
    ctx,
    service,
    meta,
    (op) => deploy(op, desired),
  );
}

async function deploy(op: Operation<ComposeExecContext>, desired: DeployDesired): Promise<ReleaseOutcome> {
  const { ctx, service, meta, name, started } = op;
  const prepared = await prepareComposeTarget(ctx, service, 'deploy');
  if (!prepared.ok) return prepared.outcome;
  const t = prepared.target;
  const check = await checkNewRelease(ctx, name, desired, meta.environment);
  if (!check.ok) return { ok: false, code: check.code, message: check.message };
  const artifact = check.artifact;

  const running = await adoptRunning(ctx, name, t.infos, meta, {
    id: () => adoptedIdFor(ctx, name, desired),
    previous: null,
  });
  await saveAdopted(ctx, running.adopted);
  const previous = running.current!;

  const tag = releaseTag(name, desired.new_release);
  await announce(ctx, STEP.tagReleaseImage, {
    release: desired.new_release,
    image: artifact.imageId,
    tag: tag.ref,
  });
  await ctx.docker.tagImage(artifact.imageId, tag.repo, tag.tag);

  const where = `${desired.image} (${shortImageId(artifact.imageId)})`;
  const switched = await switchComposeRelease(
    t,
    service,
    meta,
    {
      image: tag.ref,
      note: `release ${desired.new_release}: ${desired.image} (${artifact.imageId})${desired.artifact_id ? `, artifact ${desired.artifact_id}` : ''}`,
      expected: { release: desired.new_release, imageId: artifact.imageId },
      restoring: previous,
      logsIfUpFailed: () => logsOfImage(t, artifact.imageId),
      onFailure: (failure) =>
        ctx.logger.warn(
          { failure: true, service: name, reason: ctx.redactor.redact(failure) },
          'compose deploy failed; pinning the previous release again',
        ),
      failed: (failure, restore) => ({
        message: `compose deploy of ${where} to ${name} as ${desired.new_release} failed: ${failure}. ${rolledBackWords(restore.restored, previous.id, restore.detail)}`,
        docEvent: `failed deploy of ${desired.new_release} (${restore.restored ? 'rolled back' : 'rollback failed'})`,
      }),
    },
    started,
  );
  if (!switched.ok) return switched.outcome;

  let record: ReleaseRecord;
  try {
    record = await recordComposeRelease(t, meta, switched.replicas, { desired, artifact, previous });
  } catch (err) {
    return notRecorded(err, `${name} runs ${desired.new_release} (${where})`);
  }
  const ms = performance.now() - started;
  return {
    ok: true,
    outcome: `deployed ${name} ${where} as ${record.id} in ${secondsText(ms)} with ${t.cli.name} (compose project ${t.project.name}); ${previous.id}'s image kept for rollback`,
    data: {
      release: record.id,
      previous_release: previous.id,
      containers: replicaData(switched.replicas),
      compose: composeData(t),
      ms: Math.round(ms),
    },
    release: releaseSummary(record),
  };
}

/**
 * The new release's record from the containers compose made (Helm's tag is already on its image),
 * current, and the rollback document.
 */
async function recordComposeRelease(
  t: ComposeTarget,
  meta: ExecMeta,
  replicas: readonly GatedReplica[],
  r: { desired: DeployDesired; artifact: Artifact; previous: ReleaseRecord },
): Promise<ReleaseRecord> {
  const newInfos = await inspectComposeService(
    t,
    replicas.map((x) => x.id),
  );
  const record = recordOf(t.ctx, {
    id: r.desired.new_release,
    service: t.service,
    image: r.desired.image,
    infos: newInfos,
    manifestDigest: r.artifact.manifestDigest,
    artifactId: r.desired.artifact_id,
    meta,
    adopted: false,
    previous: r.previous.id,
  });
  await t.ctx.releases.saveRelease(record, { current: true });
  await writeComposeDoc(t, meta.environment, `deploy of ${record.id}`, record, r.previous);
  return record;
}
