import type { PlanFor } from '../contracts/index.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { ReleaseOutcome } from './release-outcome.js';
import { freeKeptName } from './deploy.js';
import { effectiveEnv, type EnvValue, applyEnvChange, expectedEnv, sameEnv } from './env-change.js';
import { type ExecContext, type ExecMeta, rethrowAbort } from './exec-context.js';
import { atOperationEdge, inspectTarget, NOTHING_CHANGED, withOpId } from './operation-prelude.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { recreateOptions } from './recreate-config.js';
import { secretRefs } from '../releases/release-config.js';
import { recordOf, tagReleaseImage, writeServiceRollbackDoc } from './release-records.js';
import { recordedReleaseOf } from '../releases/release-info.js';
import { type ReleaseRecord, releaseSummary } from '../releases/release-store.js';
import { type ReplicaStep, switchReplicas } from './replica-switch.js';
import { isScaleTemplate } from './scale-template.js';
import { readSecretForEnv, sameHmac, secretHmac, secretHmacKeyOf } from '../secrets/secret-hmac.js';
import { healthWords, nameOf, plural, secondsText } from './service-state.js';
import { failedReleaseOutcome } from './failed-release.js';
import { releaseVerifier, restoredVerifier } from './verify-release-identity.js';

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
  meta: ExecMeta,
  opts: SetEnvOptions,
): Promise<ReleaseOutcome> {
  const started = performance.now();
  const name = service.name;
  const nothing = NOTHING_CHANGED;
  if (service.composeProject)
    return {
      ok: false,
      code: 'unavailable',
      message: `${name} is a service of compose project ${service.composeProject}: its environment is in the project's files, which Helm does not rewrite; ${nothing}`,
    };
  const inspected = await inspectTarget(
    ctx,
    service,
    'change it',
    `${name} has no container to change; ${nothing}`,
  );
  if (!inspected.ok) return inspected.outcome;
  const infos = inspected.infos;
  const only = infos.length === 1 ? infos[0]! : null;
  if (only && !only.State.Running && (await isScaleTemplate(ctx.memoryDir, name, only.Id)))
    return {
      ok: false,
      code: 'not_supported',
      message: `${name} is scaled to 0 (${nameOf(only)} is kept stopped as its template): set_env recreates and starts containers, which would start it; scale it up first; ${nothing}`,
    };

  // The values: inline ones from the plan, secrets from the store, checked against the plan's HMAC.
  const set: Record<string, EnvValue> = {};
  const secretNames = Object.values(desired.set).some((v) => 'secret' in v);
  const key = secretNames ? (opts.secretKey ?? (await secretHmacKeyOf(ctx.memoryDir))) : null;
  for (const [envName, v] of Object.entries(desired.set)) {
    if ('value' in v) {
      set[envName] = { value: v.value };
      continue;
    }
    const read = await readSecretForEnv(ctx.secrets, v.secret);
    if (!read.ok)
      return {
        ok: false,
        code: read.reason === 'missing' ? 'stale_plan' : 'invalid_request',
        message: `${read.message}; ${nothing}`,
      };
    if (!sameHmac(secretHmac(key!, read.value), v.hmac_sha256))
      return {
        ok: false,
        code: 'stale_plan',
        message: `secret "${v.secret}" changed since the plan was made (its HMAC differs from the plan's); ${nothing}`,
      };
    set[envName] = { secret: v.secret, value: read.value };
  }

  let previous = await recordedReleaseOf(ctx, name, infos);
  let adopted: ReleaseRecord | null = null;
  if (!previous) {
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
    previous = adopted;
  }
  const newRelease = adopted ? `r${Number(adopted.id.slice(1)) + 1}` : await ctx.releases.nextReleaseId(name);
  const helmLabels = {
    [HELM_LABEL.op]: meta.opId ?? '',
    [HELM_LABEL.release]: newRelease,
    [HELM_LABEL.previous]: previous.id,
  };

  const taken = new Set((await ctx.docker.listContainers()).map((c) => c.name));
  const steps: ReplicaStep[] = [];
  let imageDefaults: string[] = [];
  let notSet: string[] = [];
  let changed = false;
  /** What each named variable must read back as after the change (null: not set). */
  let expectEnv: Record<string, string | null> = {};
  for (const info of infos) {
    const image = await ctx.docker.findImage(info.Image);
    if (!image)
      return {
        ok: false,
        code: 'docker_error',
        message: `the image of ${nameOf(info)} (${info.Image}) is no longer on the engine, so it cannot be recreated; ${nothing}`,
      };
    const tagged = await ctx.docker.findImage(info.Config.Image);
    const imageRef = tagged?.Id === info.Image ? info.Config.Image : info.Image;
    const r = recreateOptions({
      old: info,
      oldImage: image,
      newImage: image,
      imageRef,
      name: nameOf(info),
      helmLabels,
    });
    if (!r.ok) return { ok: false, code: 'internal', message: `${r.problem}; ${nothing}` };
    const imageEnv = image.Config?.Env ?? [];
    const change = applyEnvChange({
      ownEnv: r.options.Env ?? [],
      labels: r.options.Labels ?? {},
      imageEnv,
      set,
      unset: desired.unset,
    });
    imageDefaults = change.imageDefaults;
    notSet = change.notSet;
    expectEnv = expectedEnv(set, desired.unset, imageEnv);
    const before = effectiveEnv(imageEnv, info.Config.Env ?? []);
    const after = effectiveEnv(imageEnv, change.env);
    const refsBefore = JSON.stringify(secretRefs(info.Config.Labels ?? {}));
    const refsAfter = JSON.stringify(secretRefs(change.labels));
    if (!sameEnv(before, after) || refsBefore !== refsAfter) changed = true;
    steps.push({
      name: nameOf(info),
      old: info,
      oldKeptName: freeKeptName(nameOf(info), previous.id, info, taken),
      next: {
        kind: 'create',
        options: { ...r.options, Env: change.env, Labels: change.labels },
        allowedFrom: info,
        expectImageId: info.Image,
      },
    });
  }
  const names = describeNames(desired);
  if (!changed)
    return {
      ok: true,
      outcome: `${name}'s environment already matches (${names}); nothing changed`,
      data: { service: name, set: Object.keys(desired.set).sort(), unset: desired.unset, changed: false },
    };

  if (adopted) {
    await tagReleaseImage(ctx, adopted);
    await ctx.releases.saveRelease(adopted, { current: true });
  }
  const result = await switchReplicas(
    ctx,
    steps,
    releaseVerifier(ctx, service, { release: newRelease, imageId: infos[0]!.Image, env: expectEnv }),
    restoredVerifier(ctx, service, previous),
  );
  if (!result.ok) {
    const restored = result.restored;
    const message = restored
      ? `set_env on ${name} (${names}) failed: ${result.failure}. Rolled back: ${previous.id} runs again and is healthy (${healthWords(result.restoreDetail)})`
      : `set_env on ${name} (${names}) failed: ${result.failure}. Rolling back to ${previous.id} failed: ${result.restoreDetail}`;
    await writeServiceRollbackDoc(
      ctx,
      name,
      meta.environment,
      `failed set_env as ${newRelease} (${restored ? 'rolled back' : 'rollback failed'})`,
      previous,
    );
    return failedReleaseOutcome(ctx, {
      restored: restored,
      message,
      failedRelease: newRelease,
      restoredRelease: previous.id,
      failure: result.failure,
      failedReplica: result.failedReplica,
      lastLogs: result.lastLogs,
      ms: result.ms,
    });
  }

  try {
    const newInfos = await Promise.all(result.replicas.map((r) => ctx.docker.inspectContainer(r.id)));
    const record = recordOf(ctx, {
      id: newRelease,
      service: name,
      image: previous.image,
      infos: newInfos,
      manifestDigest: previous.manifest_digest,
      artifactId: previous.artifact_id,
      meta,
      adopted: false,
      previous: previous.id,
    });
    await tagReleaseImage(ctx, record);
    await ctx.releases.saveRelease(record, { current: true });
    await writeServiceRollbackDoc(ctx, name, meta.environment, `set_env as ${record.id}`, record, previous);
    const ms = performance.now() - started;
    const fallback =
      imageDefaults.length > 0
        ? `; ${imageDefaults.join(', ')} ${imageDefaults.length === 1 ? 'keeps' : 'keep'} the image's default`
        : '';
    return {
      ok: true,
      outcome: `${names} on ${name} (${plural(newInfos.length, 'container')} recreated, healthy: ${healthWords(result.replicas[0]?.detail ?? 'running')}) as ${record.id} in ${secondsText(ms)}; ${previous.id} kept for rollback${fallback}`,
      data: {
        service: name,
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
        containers: result.replicas.map((r) => ({ name: r.name, id: r.id.slice(0, 12), check: r.check })),
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
      message: `${name} runs its new environment as ${newRelease} and passed its health gate, but Helm could not record the release: ${(err as Error).message}`,
    };
  }
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
