import type { ContainerInspect } from '../docker/docker-objects.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { routingOf, strategyRefusal } from '../plan/deploy-strategy.js';
import { runStartFirstDeploy } from './start-first-deploy.js';
import { checkNewRelease } from './artifact.js';
import { deployComposeService } from './compose/compose-deploy.js';
import type { ExecContext, ExecMeta } from './exec-context.js';
import { runOperation, type Operation, inspectTarget, NOTHING_CHANGED } from './operation-prelude.js';
import type { Artifact } from './artifact.js';
import { recreateOptions } from './replacement-options.js';
import type { ReplicaStep } from './replica-switch.js';
import { shortImageId } from './release-bookkeeping.js';
import { type ReleaseRecord, releaseSummary } from '../releases/release-store.js';
import type { DeployDesired, ReleaseOutcome } from './release-outcome.js';
import { createOptionsFromDefinition, type ServiceDefinition } from './service-definition.js';
import { nameOf } from './target-containers.js';
import { secondsText } from './outcome-words.js';
import { rolledBackWords } from './failed-release.js';
import {
  adoptedIdFor,
  adoptRunning,
  type FailedSwitch,
  notRecorded,
  recordNewRelease,
  releaseLabels,
  replaceStep,
  replicaData,
  type SwitchedRelease,
  switchRelease,
  takenNames,
} from './release-skeleton.js';

export type { DeployDesired, ReleaseOutcome } from './release-outcome.js';

// What this Helm cannot deploy is decided in one place (plan/deploy-strategy.ts), which the gate asks
// before Warden is (cannot-do.ts) and the deploy asks again here.

/**
 * Deploys a new release, recreated, or start-first behind the proxy for a routed service (step 3
 * then runs in start-first-deploy.ts):
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
  return runOperation(`deploy of ${desired.image} to ${service.name} failed`, ctx, service, meta, (op) =>
    deploy(op, desired),
  );
}

async function deploy(op: Operation, desired: DeployDesired): Promise<ReleaseOutcome> {
  const { ctx, service, meta, name, started } = op;
  // The gate's check again (cannot-do.ts), on what the target carries now: the executor's backstop.
  const routing = routingOf(service.containers.map((c) => c.labels));
  const strategyProblem = strategyRefusal(name, desired.strategy, routing, service.composeProject);
  if (strategyProblem) return { ok: false, code: 'not_supported', message: strategyProblem };
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
      message: `${name} has no container yet and the owner's services file does not define it; ${NOTHING_CHANGED}`,
    };
  const check = await checkNewRelease(ctx, name, desired, meta.environment);
  if (!check.ok) return { ok: false, code: check.code, message: check.message };
  const artifact = check.artifact;

  // What runs now: a recorded release, or containers Helm found, recorded now as a release.
  const { current: previous, adopted } = await adoptRunning(ctx, name, infos, meta, {
    id: () => adoptedIdFor(ctx, name, desired),
    previous: null,
  });
  const labels = releaseLabels(meta.opId, desired.new_release, previous?.id ?? null);
  const steps = await deploySteps(ctx, { name, infos, definition, artifact, labels, previous, meta });
  if (!Array.isArray(steps)) return steps;

  const where = `${desired.image} (${shortImageId(artifact.imageId)})`;
  const expected = { release: desired.new_release, imageId: artifact.imageId };
  const startFirst =
    desired.strategy === 'start-first' && routing.kind === 'routed'
      ? await runStartFirstDeploy(ctx, service, meta, {
          steps,
          routed: routing.routed,
          adopted,
          expected,
          previous,
          what: `deploy of ${where} to ${name} as ${desired.new_release}`,
        })
      : null;
  const switched =
    startFirst ??
    (await switchRelease(ctx, service, meta, {
      steps,
      adopted,
      expected,
      restoring: previous,
      failed: (r) => ({
        message: failedDeployWords(r, { name, where, release: desired.new_release, previous }),
        docEvent: `failed deploy of ${desired.new_release} (${r.restored ? 'rolled back' : 'rollback failed'})`,
      }),
    }));
  if (!switched.ok) return switched.outcome;

  let record: ReleaseRecord;
  try {
    record = await recordNewRelease(ctx, name, meta, switched.switched.replicas, {
      id: desired.new_release,
      image: desired.image,
      manifestDigest: artifact.manifestDigest,
      artifactId: desired.artifact_id,
      previous,
      docEvent: `deploy of ${desired.new_release}`,
    });
  } catch (err) {
    return notRecorded(err, `${name} runs ${desired.new_release} (${where})`);
  }
  const upstreams = startFirst?.ok ? startFirst.upstreams : null;
  return deployed(record, switched.switched, { name, where, previous, steps, started, upstreams });
}

/**
 * The replica steps of a deploy, as data: each running replica replaced by a container of the new
 * image with its own settings (recreateOptions), or, for a service with no container yet, the
 * replicas the owner's services file defines. A configuration that cannot move is refused here.
 */
async function deploySteps(
  ctx: ExecContext,
  d: {
    name: string;
    infos: readonly ContainerInspect[];
    definition: ServiceDefinition | null;
    artifact: Artifact;
    labels: Record<string, string>;
    previous: ReleaseRecord | null;
    meta: ExecMeta;
  },
): Promise<ReplicaStep[] | ReleaseOutcome> {
  const { artifact, labels } = d;
  const steps: ReplicaStep[] = [];
  const taken = await takenNames(ctx);
  for (const info of d.infos) {
    const oldImage = await ctx.docker.findImage(info.Image);
    const r = recreateOptions({
      old: info,
      oldImage,
      newImage: artifact.image,
      imageRef: artifact.imageRef,
      name: nameOf(info),
      helmLabels: labels,
    });
    if (!r.ok) return { ok: false, code: 'artifact_mismatch', message: `${r.problem}; ${NOTHING_CHANGED}` };
    steps.push(
      replaceStep(info, d.previous!.id, taken, { options: r.options, expectImageId: artifact.imageId }),
    );
  }
  const definition = d.definition;
  for (let i = 0; definition && i < (definition.replicas ?? 1); i++) {
    const options = createOptionsFromDefinition(
      d.name,
      definition,
      artifact.imageRef,
      d.meta.environment,
      i,
      labels,
    );
    steps.push({
      name: options.name!,
      old: null,
      oldKeptName: null,
      next: { kind: 'create', options, allowedFrom: null, expectImageId: artifact.imageId },
    });
  }
  return steps;
}

/** The failure's words: a first release cleaned up (or not), or the previous one back (or not). */
function failedDeployWords(
  r: FailedSwitch,
  d: { name: string; where: string; release: string; previous: ReleaseRecord | null },
): string {
  const failed = `deploy of ${d.where} to ${d.name} as ${d.release} failed: ${r.failure}.`;
  if (d.previous) return `${failed} ${rolledBackWords(r.restored, d.previous.id, r.restoreDetail)}`;
  return `${failed} It was ${d.name}'s first release: ${
    r.restored ? 'the new container was removed and nothing runs' : `cleaning up failed: ${r.restoreDetail}`
  }`;
}

function deployed(
  record: ReleaseRecord,
  switched: SwitchedRelease,
  d: {
    name: string;
    where: string;
    previous: ReleaseRecord | null;
    steps: ReplicaStep[];
    started: number;
    /** start-first: the instance ports the proxy's route points at now; null: recreated. */
    upstreams: number[] | null;
  },
): ReleaseOutcome {
  const keptText = d.previous ? `; ${d.previous.id} kept for rollback` : '';
  const ms = performance.now() - d.started;
  const how = d.upstreams
    ? ` start-first behind the proxy (now on 127.0.0.1:${d.upstreams.join(', 127.0.0.1:')})`
    : '';
  return {
    ok: true,
    outcome: `deployed ${d.name} ${d.where} as ${record.id}${how} in ${secondsText(ms)}${keptText}`,
    data: {
      strategy: d.upstreams ? 'start-first' : 'recreate',
      ...(d.upstreams ? { upstreams: d.upstreams.map((port) => `127.0.0.1:${port}`) } : {}),
      release: record.id,
      previous_release: d.previous?.id ?? null,
      containers: replicaData(switched.replicas),
      kept: d.previous ? d.steps.map((s) => s.oldKeptName) : [],
      stops: switched.stops,
      ms: Math.round(ms),
    },
    release: releaseSummary(record),
  };
}
