import type { Plan } from '../../contracts/index.js';
import type { ContainerInspect } from '../../docker/docker-objects.js';
import type { ReleaseRecord } from '../../releases/release-store.js';
import type { ExecContext } from '../exec-context.js';
import { nameOf } from '../target-containers.js';
import { STEP } from '../steps.js';
import {
  afterCrashWords,
  crashStep,
  createdBy,
  environmentOfInfos,
  isActiveName,
  isRunning,
  type RecoveringIntent,
  replicaNameOf,
  serviceContainers,
} from './interrupted-state.js';

export interface SwitchRecoveryInput {
  intent: RecoveringIntent;
  /** The plan the operation ran, when its exec job still holds it (and it hashes to the intent's). */
  plan: Plan | null;
  startedAt: Date | null;
}

/**
 * What an interrupted deploy or rollback (a release switch) had done, read from the release records
 * and from what Docker shows now: the release it switched to (T) and from (F), the containers that
 * ran before, and the new release's containers.
 */
export interface InterruptedSwitch extends SwitchRecoveryInput {
  /** The service. */
  name: string;
  /** The step at which the operation stopped. */
  step: string;
  /** "after a crash at step <step>", as every outcome says it. */
  words: string;
  /** A deploy or set_env: replicas replaced in place by new containers (not a rollback's kept ones). */
  isDeploy: boolean;
  toId: string | null;
  /** T's id, or "the new release" when the intent has none. */
  target: string;
  /** A deploy's T is recorded only once it passed its gate (a crash after that); a rollback's always is. */
  toRecord: ReleaseRecord | null;
  fromRecord: ReleaseRecord | null;
  /** The signed plan's precondition containers (none without a plan). */
  preconditionIds: string[];
  byId: Map<string, ContainerInspect>;
  /** The containers that ran before: the plan's preconditions (signed, for production), else F's record. */
  oldIds: string[];
  /** The replica name a container that ran before runs under. */
  oldName(id: string): string;
  /** Created by this operation (never one a rollback's T record names: those existed before). */
  created: ContainerInspect[];
  /** A rollback's T containers that were kept and brought back. */
  reused: ContainerInspect[];
  /** The new release's containers: created and reused. */
  fresh: ContainerInspect[];
  environment: string;
  /** The replica names the new release must run under to be up. */
  expected: string[];
}

/** Steps after which the operation had already decided to undo (its health gate failed). */
const UNDO_STEPS = new Set<string>([
  STEP.stopNew,
  STEP.removeNew,
  STEP.disarmKept,
  STEP.renameKeptBack,
  STEP.renameOldBack,
  STEP.rearmOld,
  STEP.startOld,
]);

/** Whether the operation had already found the new release failing and was undoing it. */
export function wasUndoing(sw: Pick<InterruptedSwitch, 'step'>): boolean {
  return UNDO_STEPS.has(sw.step);
}

export async function readInterruptedSwitch(
  ctx: ExecContext,
  input: SwitchRecoveryInput,
): Promise<InterruptedSwitch> {
  const { intent, plan, startedAt } = input;
  const name = intent.service;
  const isDeploy = intent.action !== 'rollback';
  const toId = intent.to_release;
  const preconditionIds = plan ? plan.preconditions.containers.map((c) => c.id) : [];
  const { toRecord, fromRecord } = await switchRecords(ctx, input, preconditionIds);

  const all = await serviceContainers(ctx, intent, [
    ...preconditionIds,
    ...(fromRecord?.containers.map((c) => c.id) ?? []),
    ...(toRecord?.containers.map((c) => c.id) ?? []),
  ]);
  const byId = new Map(all.map((c) => [c.Id, c]));
  const oldIds =
    preconditionIds.length > 0
      ? preconditionIds
      : fromRecord
        ? fromRecord.containers.map((c) => c.id)
        : all.filter((c) => isActiveName(c) && !createdBy(c, intent, startedAt)).map((c) => c.Id);
  const oldSet = new Set(oldIds);
  const preexisting = new Set(isDeploy ? [] : (toRecord?.containers.map((c) => c.id) ?? []));
  const created = all.filter(
    (c) => createdBy(c, intent, startedAt) && !oldSet.has(c.Id) && !preexisting.has(c.Id),
  );
  const reused = !isDeploy
    ? (toRecord?.containers ?? [])
        .map((c) => byId.get(c.id))
        .filter((c): c is ContainerInspect => !!c && !oldSet.has(c.Id) && !created.includes(c))
    : [];
  const fresh = [...created, ...reused];

  const environment =
    plan?.environment ??
    fromRecord?.environment ??
    toRecord?.environment ??
    environmentOfInfos([
      ...fresh,
      ...oldIds.map((id) => byId.get(id)).filter((c) => !!c),
    ] as ContainerInspect[]);
  const oldName = (id: string) =>
    fromRecord?.containers.find((c) => c.id === id)?.name ??
    (byId.get(id) ? replicaNameOf(byId.get(id)!) : id.slice(0, 12));
  const expected = !isDeploy
    ? (toRecord?.containers.map((c) => c.name) ?? [])
    : oldIds.length > 0
      ? oldIds.map(oldName)
      : await firstReleaseNames(ctx, name, created);
  return {
    ...input,
    name,
    step: crashStep(intent),
    words: afterCrashWords(intent),
    isDeploy,
    toId,
    target: toId ?? 'the new release',
    toRecord,
    fromRecord,
    preconditionIds,
    byId,
    oldIds,
    oldName,
    created,
    reused,
    fresh,
    environment,
    expected,
  };
}

/**
 * The new release is up: every replica name runs a container of the new release, none of the
 * replaced containers runs, and the operation was not already undoing a failure.
 */
export function newReleaseIsUp(sw: InterruptedSwitch): boolean {
  return (
    !wasUndoing(sw) &&
    sw.expected.length > 0 &&
    sw.expected.every((n) => sw.fresh.some((c) => nameOf(c) === n && c.State.Running)) &&
    sw.fresh.every((c) => !isRunning(c) || sw.expected.includes(nameOf(c))) &&
    !sw.oldIds.some((id) => {
      const c = sw.byId.get(id);
      return !!c && isRunning(c);
    })
  );
}

/** The records of what this operation switched to (T) and from (F). */
async function switchRecords(
  ctx: ExecContext,
  { intent, startedAt }: SwitchRecoveryInput,
  preconditionIds: readonly string[],
): Promise<{ toRecord: ReleaseRecord | null; fromRecord: ReleaseRecord | null }> {
  const name = intent.service;
  const toId = intent.to_release;
  const toRecord = toId ? await ctx.releases.getRelease(name, toId) : null;
  if (intent.action === 'rollback') {
    const current = await ctx.releases.currentRelease(name);
    const fromRecord =
      current && current.id !== toId ? current : await recordHolding(ctx, name, preconditionIds, toId ?? '');
    return { toRecord, fromRecord };
  }
  const fromRecord = intent.from_release
    ? await ctx.releases.getRelease(name, intent.from_release)
    : // Containers Helm found without a record: the deploy recorded them (adopted) under its op.
      ((await ctx.releases.listReleases(name)).find(
        (r) =>
          r.adopted &&
          r.op_id === intent.op &&
          r.id !== toId &&
          (!startedAt || Date.parse(r.created_at) >= startedAt.getTime() - 1000),
      ) ?? null);
  return { toRecord, fromRecord };
}

/** The recorded release (other than `not`) that holds one of these containers. */
async function recordHolding(
  ctx: ExecContext,
  service: string,
  ids: readonly string[],
  not: string,
): Promise<ReleaseRecord | null> {
  if (ids.length === 0) return null;
  const all = await ctx.releases.listReleases(service);
  return all.find((r) => r.id !== not && r.containers.some((c) => ids.includes(c.id))) ?? null;
}

/** A first release (nothing replaced): the names its replicas get, from the services file or what was created. */
async function firstReleaseNames(
  ctx: ExecContext,
  service: string,
  created: readonly ContainerInspect[],
): Promise<string[]> {
  const definition = (await ctx.definitions?.(service)) ?? null;
  const replicas = definition?.replicas ?? 1;
  const names = created.filter(isActiveName).map(nameOf).sort();
  // Not all created yet: the release is not up (a name that cannot match).
  return names.length >= replicas ? names : [...names, `${service}#${names.length + 1}`];
}
