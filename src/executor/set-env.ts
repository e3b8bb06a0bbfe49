import type { PlanFor } from '../contracts/index.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { ReleaseOutcome } from './release-outcome.js';
import { effectiveEnv, type EnvValue, applyEnvChange, expectedEnv, sameEnv } from './env-change.js';
import type { ExecContext, ExecMeta } from './exec-context.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { atOperationEdge, inspectTarget, NOTHING_CHANGED, withOpId } from './operation-prelude.js';
import { recreateOptions } from './replacement-options.js';
import { secretRefs } from '../releases/release-config.js';
import { type ReleaseRecord, releaseSummary } from '../releases/release-store.js';
import type { ReplicaStep } from './replica-switch.js';
import { isScaleTemplate } from './scale-template.js';
import { readSecretForEnv, sameHmac, secretHmac, secretHmacKeyOf } from '../secrets/secret-hmac.js';
import { nameOf } from './target-containers.js';
import { healthWords, plural, secondsText } from './outcome-words.js';
import { rolledBackWords } from './failed-release.js';
import {
  adoptRunning,
  notRecorded,
  recordNewRelease,
  releaseLabels,
  replaceStep,
  type SwitchedRelease,
  switchRelease,
  takenNames,
} from './release-skeleton.js';

export type SetEnvDesired = PlanFor<'set_env'>['desired'];

export interface SetEnvOptions {
  /** deriveKey(helmKey, 'secret-hmac'); default: from Helm's key in ctx.memoryDir. */
  secretKey?: Buffer;
}

/**
 * Recreates a service's containers with a changed environment: the deploy machinery on the same
 * image. Each replica is replaced by switchReplicas (stop_old, disarm_old, rename_old → kept as
 * `<name>-helm-<release>`, create_new, start_new, health check, stability window; any failure undoes
 * the replaced replicas: rolled_back, or rollback_failed), its configuration built by recreateOptions
 * (the container's own settings, the image's defaults not pinned) with the environment changed by
 * applyEnvChange. The result is a new release (same image id, new configuration: tag_release_image,
 * record, rollback document), so `rollback` undoes an env change like a deploy. Containers Helm found
 * without a record become a release of their own first, as in a deploy.
 *
 * Secret references are read from the owner's secret store now, and each value's HMAC must equal the
 * plan's: a secret that changed since the plan was made is stale_plan, before any change. Values never
 * reach a log, a result or a record: the records keep `{ name, secret }`, the container the label
 * `helm.env-secrets`. Inline values are plain configuration: they are in the plan and the release
 * record, never in the outcome or a log line.
 */
export async function setEnvService(
  ctx: ExecContext,
  service: ResolvedService,
  desired: SetEnvDesired,
  meta: ExecMeta,
  opts: SetEnvOptions = {},
): Promise<ReleaseOutcome> {
  return atOperationEdge(`set_env of ${service.name} failed`, () =>
    setEnv(ctx, service, desired, withOpId(meta), opts),
  );
}

async function setEnv(
  ctx: ExecContext,
  service: ResolvedService,
  desired: SetEnvDesired,
  meta: ExecMeta & { opId: string },
  opts: SetEnvOptions,
): Promise<ReleaseOutcome> {
  const started = performance.now();
  const name = service.name;
  const refused = await refusedBeforeChange(ctx, service);
  if (!refused.ok) return refused.outcome;
  const infos = refused.infos;
  const values = await envValues(ctx, desired, opts);
  if (!values.ok) return values.outcome;

  const { current, adopted } = await adoptRunning(ctx, name, infos, meta);
  const previous = current!;
  const newRelease = adopted ? `r${Number(adopted.id.slice(1)) + 1}` : await ctx.releases.nextReleaseId(name);
  const labels = releaseLabels(meta.opId, newRelease, previous.id);
  const built = await setEnvSteps(ctx, { infos, set: values.set, unset: desired.unset, labels, previous });
  if (!('steps' in built)) return built;
  const names = describeNames(desired);
  if (!built.changed)
    return {
      ok: true,
      outcome: `${name}'s environment already matches (${names}); nothing changed`,
      data: { service: name, set: Object.keys(desired.set).sort(), unset: desired.unset, changed: false },
    };

  const switched = await switchRelease(ctx, service, meta, {
    steps: built.steps,
    adopted,
    expected: { release: newRelease, imageId: infos[0]!.Image, env: built.expectEnv },
    restoring: previous,
    failed: (r) => ({
      message: `set_env on ${name} (${names}) failed: ${r.failure}. ${rolledBackWords(r.restored, previous.id, r.restoreDetail)}`,
      docEvent: `failed set_env as ${newRelease} (${r.restored ? 'rolled back' : 'rollback failed'})`,
    }),
  });
  if (!switched.ok) return switched.outcome;

  let record: ReleaseRecord;
  try {
    record = await recordNewRelease(ctx, name, meta, switched.switched.replicas, {
      id: newRelease,
      image: previous.image,
      manifestDigest: previous.manifest_digest,
      artifactId: previous.artifact_id,
      previous,
      docEvent: `set_env as ${newRelease}`,
    });
  } catch (err) {
    return notRecorded(err, `${name} runs its new environment as ${newRelease}`);
  }
  return envChanged(record, switched.switched, { name, names, desired, previous, built, started });
}

/** What set_env refuses before any change: compose services, no container, protected roles, scaled to 0. */
async function refusedBeforeChange(
  ctx: ExecContext,
  service: ResolvedService,
): Promise<{ ok: true; infos: ContainerInspect[] } | { ok: false; outcome: ReleaseOutcome }> {
  const name = service.name;
  const refuse = (code: string, message: string) => ({
    ok: false as const,
    outcome: { ok: false as const, code, message: `${message}; ${NOTHING_CHANGED}` },
  });
  if (service.composeProject)
    return refuse(
      'unavailable',
      `${name} is a service of compose project ${service.composeProject}: its environment is in the project's files, which Helm does not rewrite`,
    );
  const inspected = await inspectTarget(
    ctx,
    service,
    'change it',
    `${name} has no container to change; ${NOTHING_CHANGED}`,
  );
  if (!inspected.ok) return inspected;
  const only = inspected.infos.length === 1 ? inspected.infos[0]! : null;
  if (only && !only.State.Running && (await isScaleTemplate(ctx.memoryDir, name, only.Id)))
    return refuse(
      'not_supported',
      `${name} is scaled to 0 (${nameOf(only)} is kept stopped as its template): set_env recreates and starts containers, which would start it; scale it up first`,
    );
  return inspected;
}

/** The values: inline ones from the plan, secrets from the store, checked against the plan's HMAC. */
async function envValues(
  ctx: ExecContext,
  desired: SetEnvDesired,
  opts: SetEnvOptions,
): Promise<{ ok: true; set: Record<string, EnvValue> } | { ok: false; outcome: ReleaseOutcome }> {
  const set: Record<string, EnvValue> = {};
  const secretNames = Object.values(desired.set).some((v) => 'secret' in v);
  const key = secretNames ? (opts.secretKey ?? (await secretHmacKeyOf(ctx.memoryDir))) : null;
  for (const [envName, v] of Object.entries(desired.set)) {
    if ('value' in v) {
      set[envName] = { value: v.value };
      continue;
    }
    const read = await readSecretForEnv(ctx.secrets, v.secret);
    if (!read.ok) {
      const code = read.reason === 'missing' ? 'stale_plan' : 'invalid_request';
      return { ok: false, outcome: { ok: false, code, message: `${read.message}; ${NOTHING_CHANGED}` } };
    }
    if (!sameHmac(secretHmac(key!, read.value), v.hmac_sha256))
      return {
        ok: false,
        outcome: {
          ok: false,
          code: 'stale_plan',
          message: `secret "${v.secret}" changed since the plan was made (its HMAC differs from the plan's); ${NOTHING_CHANGED}`,
        },
      };
    set[envName] = { secret: v.secret, value: read.value };
  }
  return { ok: true, set };
}

interface EnvSteps {
  steps: ReplicaStep[];
  /** Whether any replica's environment (or its secret references) would change at all. */
  changed: boolean;
  imageDefaults: string[];
  notSet: string[];
  /** What each named variable must read back as after the change (null: not set). */
  expectEnv: Record<string, string | null>;
}

/**
 * The replica steps of a set_env, as data: each replica replaced by a container of its own image
 * with its own settings (recreateOptions) and the environment changed (applyEnvChange).
 */
async function setEnvSteps(
  ctx: ExecContext,
  d: {
    infos: readonly ContainerInspect[];
    set: Record<string, EnvValue>;
    unset: string[];
    labels: Record<string, string>;
    previous: ReleaseRecord;
  },
): Promise<EnvSteps | ReleaseOutcome> {
  const taken = await takenNames(ctx);
  const out: EnvSteps = { steps: [], changed: false, imageDefaults: [], notSet: [], expectEnv: {} };
  for (const info of d.infos) {
    const image = await ctx.docker.findImage(info.Image);
    if (!image)
      return {
        ok: false,
        code: 'docker_error',
        message: `the image of ${nameOf(info)} (${info.Image}) is no longer on the engine, so it cannot be recreated; ${NOTHING_CHANGED}`,
      };
    const tagged = await ctx.docker.findImage(info.Config.Image);
    const imageRef = tagged?.Id === info.Image ? info.Config.Image : info.Image;
    const r = recreateOptions({
      old: info,
      oldImage: image,
      newImage: image,
      imageRef,
      name: nameOf(info),
      helmLabels: d.labels,
    });
    if (!r.ok) return { ok: false, code: 'internal', message: `${r.problem}; ${NOTHING_CHANGED}` };
    const imageEnv = image.Config?.Env ?? [];
    const change = applyEnvChange({
      ownEnv: r.options.Env ?? [],
      labels: r.options.Labels ?? {},
      imageEnv,
      set: d.set,
      unset: d.unset,
    });
    out.imageDefaults = change.imageDefaults;
    out.notSet = change.notSet;
    out.expectEnv = expectedEnv(d.set, d.unset, imageEnv);
    const before = effectiveEnv(imageEnv, info.Config.Env ?? []);
    const after = effectiveEnv(imageEnv, change.env);
    const refsBefore = JSON.stringify(secretRefs(info.Config.Labels ?? {}));
    const refsAfter = JSON.stringify(secretRefs(change.labels));
    if (!sameEnv(before, after) || refsBefore !== refsAfter) out.changed = true;
    const options = { ...r.options, Env: change.env, Labels: change.labels };
    out.steps.push(replaceStep(info, d.previous.id, taken, { options, expectImageId: info.Image }));
  }
  return out;
}

function envChanged(
  record: ReleaseRecord,
  switched: SwitchedRelease,
  d: {
    name: string;
    names: string;
    desired: SetEnvDesired;
    previous: ReleaseRecord;
    built: EnvSteps;
    started: number;
  },
): ReleaseOutcome {
  const { desired, previous } = d;
  const { imageDefaults, notSet } = d.built;
  const ms = performance.now() - d.started;
  const fallback =
    imageDefaults.length > 0
      ? `; ${imageDefaults.join(', ')} ${imageDefaults.length === 1 ? 'keeps' : 'keep'} the image's default`
      : '';
  return {
    ok: true,
    outcome: `${d.names} on ${d.name} (${plural(record.containers.length, 'container')} recreated, healthy: ${healthWords(switched.replicas[0]?.detail ?? 'running')}) as ${record.id} in ${secondsText(ms)}; ${previous.id} kept for rollback${fallback}`,
    data: {
      service: d.name,
      release: record.id,
      previous_release: previous.id,
      set: Object.keys(desired.set).sort(),
      secrets: Object.fromEntries(
        Object.entries(desired.set)
          .filter(([, v]) => 'secret' in v)
          .map(([n, v]) => [n, (v as { secret: string }).secret]),
      ),
      unset: desired.unset,
      image_defaults: imageDefaults,
      were_not_set: notSet,
      containers: switched.replicas.map((r) => ({ name: r.name, id: r.id.slice(0, 12), check: r.check })),
      stops: switched.stops,
      ms: Math.round(ms),
    },
    release: releaseSummary(record),
  };
}

/** "set API_URL, DB_PASSWORD (from secret db-password) and unset DEBUG": names only, never values. */
export function describeNames(desired: SetEnvDesired): string {
  const set = Object.keys(desired.set)
    .sort()
    .map((n) => {
      const v = desired.set[n]!;
      return 'secret' in v ? `${n} (from secret ${v.secret})` : n;
    });
  const parts = [
    ...(set.length > 0 ? [`set ${set.join(', ')}`] : []),
    ...(desired.unset.length > 0 ? [`unset ${desired.unset.join(', ')}`] : []),
  ];
  return parts.join(' and ');
}
