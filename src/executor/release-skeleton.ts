import type { ContainerInspect } from '../docker/docker-objects.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { keptName } from '../docker/kept-containers.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { recordedReleaseOf } from '../releases/release-info.js';
import type { ReleaseRecord } from '../releases/release-store.js';
import { type ExecContext, type ExecMeta, rethrowAbort } from './exec-context.js';
import { failedReleaseOutcome } from './failed-release.js';
import { recordOf, tagReleaseImage, writeServiceRollbackDoc } from './release-bookkeeping.js';
import type { DeployDesired, ReleaseOutcome } from './release-outcome.js';
import {
  type ReplicaStep,
  type SwitchedReplica,
  type SwitchResult,
  switchReplicas,
} from './replica-switch.js';
import { nameOf } from './target-containers.js';
import { type ExpectedRelease, releaseVerifier, restoredVerifier } from './verify-release-identity.js';

/**
 * The skeleton every operation that makes a release fills in (deploy, rollback, set_env; compose
 * services have their own runner in compose/, on the same first and last steps):
 *  1. what runs now: its recorded release, or the containers Helm found, recorded as one (adoptRunning);
 *  2. the operation's own replica steps, built as data (ReplicaStep[]: replaceStep and its own);
 *  3. the adopted release tagged and saved, then the switch, health-gated (switchRelease);
 *  4. on failure: the rollback document for what runs again and a rolled_back / rollback_failed outcome;
 *  5. on success: the new release recorded (recordNewRelease), in the operation's own words.
 */

export type FailedSwitch = Extract<SwitchResult, { ok: false }>;
export type SwitchedRelease = Extract<SwitchResult, { ok: true }>;

export interface Running {
  /** The release that runs now: recorded, or just adopted; null when nothing runs. */
  current: ReleaseRecord | null;
  /** The containers Helm found without a record, as a release not yet saved (saveAdopted). */
  adopted: ReleaseRecord | null;
}

/**
 * What runs now. Containers changed by hand since Helm's last record (or never recorded) become a
 * release of their own, so they can be restored: id and previous default to the next free id and
 * the current record.
 */
export async function adoptRunning(
  ctx: Pick<ExecContext, 'releases' | 'redactor' | 'clock'>,
  service: string,
  infos: readonly ContainerInspect[],
  meta: ExecMeta,
  adopt: { id?: () => Promise<string>; previous?: string | null } = {},
): Promise<Running> {
  const recorded = await recordedReleaseOf(ctx, service, infos);
  if (recorded || infos.length === 0) return { current: recorded, adopted: null };
  const adopted = recordOf(ctx, {
    id: await (adopt.id ? adopt.id() : ctx.releases.nextReleaseId(service)),
    service,
    image: infos[0]!.Config.Image,
    infos,
    manifestDigest: null,
    artifactId: null,
    meta,
    adopted: true,
    previous:
      adopt.previous !== undefined
        ? adopt.previous
        : ((await ctx.releases.currentRelease(service))?.id ?? null),
  });
  return { current: adopted, adopted };
}

/** A deploy's id for the containers Helm found: the plan's replaces_release when free, else the next number. */
export async function adoptedIdFor(
  ctx: Pick<ExecContext, 'releases'>,
  service: string,
  desired: DeployDesired,
): Promise<string> {
  const wanted = desired.replaces_release;
  if (wanted && wanted !== desired.new_release && !(await ctx.releases.getRelease(service, wanted)))
    return wanted;
  const next = await ctx.releases.nextReleaseId(service);
  if (next !== desired.new_release) return next;
  return `r${Number(next.slice(1)) + 1}`;
}

/** An adopted release becomes real: Helm's tag on its image, its record current. */
export async function saveAdopted(ctx: ExecContext, adopted: ReleaseRecord | null): Promise<void> {
  if (!adopted) return;
  await tagReleaseImage(ctx, adopted);
  await ctx.releases.saveRelease(adopted, { current: true });
}

/** The labels Helm puts on a release's containers (what made them: the op, the release, what it replaced). */
export function releaseLabels(
  opId: string,
  release: string,
  previous: string | null,
): Record<string, string> {
  return { [HELM_LABEL.op]: opId, [HELM_LABEL.release]: release, [HELM_LABEL.previous]: previous ?? '' };
}

/** The names containers have now, so a kept container never takes one that is in use. */
export async function takenNames(ctx: Pick<ExecContext, 'docker'>): Promise<Set<string>> {
  return new Set((await ctx.docker.listContainers()).map((c) => c.name));
}

/** What a replaced replica is renamed to while kept: `<name>-helm-<release>`, made unique when taken. */
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

/** The step that replaces a running replica by a new container of the options given (kept for undo). */
export function replaceStep(
  info: ContainerInspect,
  keptRelease: string,
  taken: Set<string>,
  next: { options: Extract<ReplicaStep['next'], { kind: 'create' }>['options']; expectImageId: string },
): ReplicaStep {
  return {
    name: nameOf(info),
    old: info,
    oldKeptName: freeKeptName(nameOf(info), keptRelease, info, taken),
    next: { kind: 'create', options: next.options, allowedFrom: info, expectImageId: next.expectImageId },
  };
}

/** One operation's release change, as data: switchRelease performs it. */
export interface ReleaseSwitch {
  steps: ReplicaStep[];
  adopted: ReleaseRecord | null;
  /** What the new containers must be (its `release` is the one the failure names). */
  expected: ExpectedRelease;
  /** The release that runs now and comes back when the switch fails (null: nothing ran before). */
  restoring: ReleaseRecord | null;
  /** On failure: the outcome's words, and the rollback document's event and previous release. */
  failed(r: FailedSwitch): { message: string; docEvent: string; docPrevious?: ReleaseRecord | null };
}

/**
 * Steps 3 and 4 of the skeleton: the adopted release saved, the replicas switched (switchReplicas:
 * one at a time, health-gated, undone on failure), and a failure answered the one way every release
 * operation answers it.
 */
export async function switchRelease(
  ctx: ExecContext,
  service: ResolvedService,
  meta: ExecMeta,
  s: ReleaseSwitch,
): Promise<{ ok: true; switched: SwitchedRelease } | { ok: false; outcome: ReleaseOutcome }> {
  await saveAdopted(ctx, s.adopted);
  const result = await switchReplicas(
    ctx,
    s.steps,
    releaseVerifier(ctx, service, s.expected),
    restoredVerifier(ctx, service, s.restoring),
  );
  if (result.ok) return { ok: true, switched: result };
  const words = s.failed(result);
  if (s.restoring)
    await writeServiceRollbackDoc(
      ctx,
      service.name,
      meta.environment,
      words.docEvent,
      s.restoring,
      words.docPrevious ?? null,
    );
  const outcome = failedReleaseOutcome(ctx, {
    restored: result.restored,
    message: words.message,
    failedRelease: s.expected.release,
    restoredRelease: s.restoring?.id ?? null,
    failure: result.failure,
    failedReplica: result.failedReplica,
    lastLogs: result.lastLogs,
    ms: result.ms,
  });
  return { ok: false, outcome };
}

/** What a new release is, for its record (its containers are the switched replicas). */
export interface NewRelease {
  id: string;
  image: string;
  manifestDigest: string | null;
  artifactId: string | null;
  previous: ReleaseRecord | null;
  /** The rollback document's event ("deploy of r3"). */
  docEvent: string;
}

/**
 * Step 5: the new release's record from the switched containers, Helm's tag on its image, the record
 * current, the rollback document. A failure here leaves the release running but unrecorded:
 * `notRecorded` words it.
 */
export async function recordNewRelease(
  ctx: ExecContext,
  service: string,
  meta: ExecMeta,
  replicas: readonly SwitchedReplica[],
  r: NewRelease,
): Promise<ReleaseRecord> {
  const infos = await Promise.all(replicas.map((x) => ctx.docker.inspectContainer(x.id)));
  const record = recordOf(ctx, {
    id: r.id,
    service,
    image: r.image,
    infos,
    manifestDigest: r.manifestDigest,
    artifactId: r.artifactId,
    meta,
    adopted: false,
    previous: r.previous?.id ?? null,
  });
  await tagReleaseImage(ctx, record);
  await ctx.releases.saveRelease(record, { current: true });
  await writeServiceRollbackDoc(ctx, service, meta.environment, r.docEvent, record, r.previous);
  return record;
}

/** A release that runs and passed its health gate, but whose record could not be written. */
export function notRecorded(err: unknown, runs: string): ReleaseOutcome {
  rethrowAbort(err);
  return {
    ok: false,
    code: 'internal',
    message: `${runs} and passed its health gate, but Helm could not record the release: ${(err as Error).message}`,
  };
}

/** The switched replicas as a result's data names them. */
export function replicaData(replicas: readonly SwitchedReplica[]) {
  return replicas.map((r) => ({ name: r.name, id: r.id.slice(0, 12), check: r.check, detail: r.detail }));
}
