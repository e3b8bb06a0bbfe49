import type { Plan } from '../contracts/index.js';
import type { ContainerInspect, RestartPolicy } from '../docker/docker-client.js';
import { resolveTarget } from '../docker/target-resolution.js';
import type { ExecResult } from '../exec-job/exec-job.js';
import { announce, ChangeAbortedError, type ExecContext, type ExecMeta } from './exec-context.js';
import { healthGate } from './health-gate.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { keptName } from '../docker/kept-containers.js';
import { createOptionsFromRecord } from '../releases/release-config.js';
import { recordOf, shortImageId, tagReleaseImage, writeServiceRollbackDoc } from './release-bookkeeping.js';
import { type ReleaseRecord, releaseSummary } from '../releases/release-store.js';
import { stopTimeout } from './replica-switch.js';
import {
  crashStep,
  createdBy,
  environmentOfInfos,
  inspectOrNull,
  isActiveName,
  isRunning,
  type RecoveringIntent,
  replicaNameOf,
  serviceContainers,
  stoppedSince,
} from './recover-state.js';
import { nameOf } from './target-containers.js';
import { healthWords, secondsText } from './outcome-words.js';
import { STEP } from './steps.js';
import { type ExpectedRelease, identityOf, verifyReleaseIdentity } from './verify-release-identity.js';

/**
 * Recovery of an interrupted deploy or rollback (a release switch), from what Docker shows:
 *  - the new release is up: every replica name runs a container of the new release, none of the
 *    replaced containers runs, and the operation was not already undoing a failure. Then its health
 *    gate runs again (health check and the stability window) and, as the operation itself would,
 *    Docker must show the containers carrying the service's identity on the new release
 *    (verify-release-identity.ts); passing both, the release is recorded as executed (record
 *    current, Helm's tag, rollback document), exactly as the deploy would have. Failing, it goes back.
 *  - anything else goes back to what ran before: the containers this operation created are stopped
 *    and removed (a rollback's kept containers are stopped and renamed back to their kept names),
 *    and the replaced containers are renamed back, their restart policy restored, started (when
 *    this operation had stopped them) and health-checked. A replaced container that is gone is
 *    created again from its release record. In production, only the release the signed plan names
 *    is restored (its preconditions, or the intent's from_release); nothing else is improvised.
 * Nothing of the new release is ever created here: the same operation is never applied twice.
 */
export interface SwitchRecoveryInput {
  intent: RecoveringIntent;
  /** The plan the operation ran, when its exec job still holds it (and it hashes to the intent's). */
  plan: Plan | null;
  startedAt: Date | null;
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

export async function recoverSwitch(ctx: ExecContext, input: SwitchRecoveryInput): Promise<ExecResult> {
  const started = performance.now();
  const { intent, plan, startedAt } = input;
  const name = intent.service;
  const step = crashStep(intent);
  const isDeploy = intent.action === 'deploy';
  const toId = intent.to_release;
  const preconditionIds = plan ? plan.preconditions.containers.map((c) => c.id) : [];

  // What this operation switched to (T) and from (F).
  // A deploy's T is recorded only once it passed its gate (a crash after that); a rollback's always is.
  const toRecord = toId ? await ctx.releases.getRelease(name, toId) : null;
  let fromRecord: ReleaseRecord | null = null;
  if (isDeploy)
    fromRecord = intent.from_release
      ? await ctx.releases.getRelease(name, intent.from_release)
      : // Containers Helm found without a record: the deploy recorded them (adopted) under its op.
        ((await ctx.releases.listReleases(name)).find(
          (r) =>
            r.adopted &&
            r.op_id === intent.op &&
            r.id !== toId &&
            (!startedAt || Date.parse(r.created_at) >= startedAt.getTime() - 1000),
        ) ?? null);
  else {
    const current = await ctx.releases.currentRelease(name);
    fromRecord =
      current && current.id !== toId ? current : await recordHolding(ctx, name, preconditionIds, toId ?? '');
  }

  const all = await serviceContainers(ctx, intent, [
    ...preconditionIds,
    ...(fromRecord?.containers.map((c) => c.id) ?? []),
    ...(toRecord?.containers.map((c) => c.id) ?? []),
  ]);
  const byId = new Map(all.map((c) => [c.Id, c]));

  // The containers that ran before: the plan's preconditions (signed, for production), else F's record.
  const oldIds =
    preconditionIds.length > 0
      ? preconditionIds
      : fromRecord
        ? fromRecord.containers.map((c) => c.id)
        : all.filter((c) => isActiveName(c) && !createdBy(c, intent, startedAt)).map((c) => c.Id);
  const oldSet = new Set(oldIds);
  // The new release's containers: created by this operation, or (rollback) T's kept ones.
  // A rollback's T record names containers that existed before this operation: never "created".
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

  const up =
    !UNDO_STEPS.has(step) &&
    expected.length > 0 &&
    expected.every((n) => fresh.some((c) => nameOf(c) === n && c.State.Running)) &&
    fresh.every((c) => !isRunning(c) || expected.includes(nameOf(c))) &&
    !oldIds.some((id) => {
      const c = byId.get(id);
      return !!c && isRunning(c);
    });
  const words = `after a crash at step ${step}`;
  const target = toId ?? 'the new release';

  let failure: string;
  if (up) {
    const gates: Array<{ c: ContainerInspect; detail: string; check: string }> = [];
    let bad: string | null = null;
    for (const c of fresh.filter((x) => expected.includes(nameOf(x)))) {
      const gate = await healthGate(ctx, c.Id, ctx.healthTimeoutMs, ctx.stabilityWindowMs);
      if (!gate.ok) {
        bad = `${nameOf(c)}: ${gate.reason}`;
        break;
      }
      gates.push({ c, detail: gate.detail, check: gate.check });
    }
    // As the operation itself would before reporting executed: Docker shows the service's identity
    // on the new release (a deploy's image: the plan's, else its record's, else what it created).
    const wrong = bad
      ? null
      : await identityProblem(
          ctx,
          name,
          {
            release: target,
            imageId:
              (plan?.action === 'deploy' ? plan.desired.image_id : null) ??
              toRecord?.image_id ??
              gates[0]!.c.Image,
          },
          gates.map((g) => g.c.Id),
        );
    if (!bad && !wrong) {
      const infos = await Promise.all(gates.map((g) => ctx.docker.inspectContainer(g.c.Id)));
      const meta: ExecMeta = {
        requestId: plan?.request_id ?? null,
        approvalId: intent.approval_id,
        environment,
        opId: intent.op,
      };
      const deployDesired = plan?.action === 'deploy' ? plan.desired : null;
      let record: ReleaseRecord;
      if (isDeploy) {
        const had = toRecord;
        const same =
          had &&
          JSON.stringify(had.containers.map((c) => c.id).sort()) ===
            JSON.stringify(infos.map((i) => i.Id).sort());
        record =
          same && had
            ? had
            : recordOf(ctx, {
                id: target,
                service: name,
                image: deployDesired?.image ?? infos[0]!.Config.Image,
                infos,
                manifestDigest: deployDesired?.manifest_digest ?? null,
                artifactId: deployDesired?.artifact_id ?? null,
                meta,
                adopted: false,
                previous: fromRecord?.id ?? intent.from_release,
              });
        await tagReleaseImage(ctx, record);
      } else {
        const ids = new Map(infos.map((i) => [nameOf(i), i.Id]));
        record = {
          ...toRecord!,
          containers: toRecord!.containers.map((c) => ({ ...c, id: ids.get(c.name) ?? c.id })),
        };
      }
      await ctx.releases.saveRelease(record, { current: true });
      await writeServiceRollbackDoc(
        ctx,
        name,
        environment,
        `${intent.action} to ${record.id} (recovered ${words})`,
        record,
        isDeploy ? null : fromRecord,
      );
      const was = fromRecord ? `; ${fromRecord.id} kept for rollback` : '';
      return {
        ok: true,
        outcome: `recovered ${words}: ${record.id} healthy, recorded as executed (${name} runs ${record.image} (${shortImageId(record.image_id)}); ${healthWords(gates[0]?.detail ?? 'running')}${was}; recovery took ${secondsText(performance.now() - started)})`,
        data: {
          recovered: true,
          crashed_at_step: step,
          release: record.id,
          previous_release: fromRecord?.id ?? null,
          containers: gates.map((g) => ({
            name: nameOf(g.c),
            id: g.c.Id.slice(0, 12),
            check: g.check,
            detail: g.detail,
          })),
          ms: Math.round(performance.now() - started),
        },
        release: releaseSummary(record),
      };
    }
    failure = wrong ?? `${target} was up when Helm stopped, but failed its health gate afterwards (${bad})`;
  } else if (UNDO_STEPS.has(step)) {
    failure = `Helm had already found ${target} failing and was rolling it back`;
  } else {
    failure = `${target} was not up when Helm stopped`;
  }

  // Back to what ran before.
  const restored = await restore(ctx, {
    intent,
    name,
    environment,
    toId,
    fromRecord,
    oldIds,
    oldName,
    created,
    reused,
    byId,
    startedAt,
    // Production: only the release the signed plan names (its preconditions, or the intent's F).
    mayTouchOld: environment !== 'production' || preconditionIds.length > 0 || fromRecord !== null,
  });
  if (fromRecord) {
    if ((await ctx.releases.currentRelease(name))?.id !== fromRecord.id)
      await ctx.releases.setCurrent(name, fromRecord.id);
    await writeServiceRollbackDoc(
      ctx,
      name,
      environment,
      `${intent.action} to ${target} interrupted by a crash and undone`,
      fromRecord,
    );
  }
  const ms = Math.round(performance.now() - started);
  const before =
    fromRecord?.id ?? intent.from_release ?? `what ran before (${oldIds.map(oldName).join(', ')})`;
  const data = {
    recovered: true,
    crashed_at_step: step,
    failed_release: toId,
    restored_release: restored.problems.length === 0 ? (fromRecord?.id ?? intent.from_release) : null,
    reason: ctx.redactor.redact(failure),
    changes: restored.changes,
    ms,
  };
  if (restored.problems.length > 0)
    return {
      ok: false,
      code: 'rollback_failed',
      message: ctx.redactor.redact(
        `recovered ${words}: ${failure}; restoring ${before} failed: ${restored.problems.join('; ')}`,
      ),
      data,
    };
  const runs =
    oldIds.length === 0
      ? `nothing runs (it was ${name}'s first release)`
      : restored.running.length === 0
        ? `${before} is back, stopped as it was before`
        : `${before} runs and is healthy (${healthWords(restored.running[0]!)})`;
  if (restored.changes.length === 0 && created.length === 0)
    return {
      ok: false,
      code: 'internal',
      message: `recovered ${words}: Helm had not changed anything yet; ${runs}. The ${intent.action} to ${target} was not made and is not retried: send the request again`,
      data,
    };
  return {
    ok: false,
    code: 'rolled_back',
    message: ctx.redactor.redact(
      `recovered ${words}: ${failure}; the ${intent.action} was undone (${restored.changes.join('; ')}); ${runs}`,
    ),
    data,
  };
}

interface RestoreInput {
  intent: RecoveringIntent;
  name: string;
  environment: string;
  toId: string | null;
  fromRecord: ReleaseRecord | null;
  oldIds: readonly string[];
  oldName(id: string): string;
  created: readonly ContainerInspect[];
  reused: readonly ContainerInspect[];
  byId: ReadonlyMap<string, ContainerInspect>;
  startedAt: Date | null;
  mayTouchOld: boolean;
}

async function restore(
  ctx: ExecContext,
  r: RestoreInput,
): Promise<{ changes: string[]; problems: string[]; running: string[] }> {
  const changes: string[] = [];
  const problems: string[] = [];
  const running: string[] = [];
  const template = r.created[0] ?? null;

  // 1. The new release goes: created containers removed, a rollback's kept ones put back.
  for (const c of r.created) {
    const now = await inspectOrNull(ctx, c.Id);
    if (!now) continue;
    const d = { replica: nameOf(now), container: now.Id };
    if (isRunning(now)) {
      await announce(ctx, STEP.stopNew, d);
      await ctx.docker.stopContainer(now.Id, stopTimeout(now));
    }
    await announce(ctx, STEP.removeNew, d);
    await ctx.docker.removeContainer(now.Id, { force: true });
    changes.push(`removed the new container ${nameOf(now)}`);
  }
  const taken = new Set((await ctx.docker.listContainers()).map((c) => c.name));
  for (const c of r.reused) {
    const now = await inspectOrNull(ctx, c.Id);
    if (!now) continue;
    const d = { replica: nameOf(now), container: now.Id };
    if (isRunning(now)) {
      await announce(ctx, STEP.stopNew, d);
      await ctx.docker.stopContainer(now.Id, stopTimeout(now));
      changes.push(`stopped ${nameOf(now)}`);
    }
    const policy = now.HostConfig.RestartPolicy;
    if (policy?.Name && policy.Name !== 'no') {
      await announce(ctx, STEP.disarmKept, d);
      await ctx.docker.setRestartPolicy(now.Id, { Name: 'no' });
    }
    if (isActiveName(now) && r.toId) {
      let kept = keptName(nameOf(now), r.toId);
      if (taken.has(kept)) kept = keptName(`${nameOf(now)}-${now.Id.slice(0, 8)}`, r.toId);
      await announce(ctx, STEP.renameKeptBack, { ...d, to: kept });
      await ctx.docker.renameContainer(now.Id, kept);
      taken.delete(nameOf(now));
      taken.add(kept);
      changes.push(`kept ${nameOf(now)} again as ${kept}`);
    }
  }

  // 2. What ran before comes back, under its name, armed, started when this operation stopped it.
  if (!r.mayTouchOld) {
    problems.push(
      `the production plan's release cannot be told from what runs (no plan and no record of ${r.intent.from_release ?? 'a previous release'}): Helm restores nothing else; look at ${r.name}`,
    );
    return { changes, problems, running };
  }
  const names = new Set((await ctx.docker.listContainers()).map((c) => c.name));
  for (const id of r.oldIds) {
    const replica = r.oldName(id);
    const recorded = r.fromRecord?.containers.find((c) => c.id === id) ?? null;
    let info = await inspectOrNull(ctx, id);
    let recreated = false;
    try {
      if (!info) {
        if (!recorded || !r.fromRecord) {
          problems.push(`${replica} (${id.slice(0, 12)}) is gone and no record can recreate it`);
          continue;
        }
        info = await recreate(ctx, r, recorded, template);
        recreated = true;
        changes.push(`recreated ${replica} from ${r.fromRecord.id}'s record`);
        names.add(replica);
      }
      const d = { replica, container: info.Id };
      if (nameOf(info) !== replica) {
        if (names.has(replica)) {
          problems.push(
            `${replica} is taken by another container, so ${nameOf(info)} cannot get its name back`,
          );
          continue;
        }
        await announce(ctx, STEP.renameOldBack, { ...d, to: replica });
        await ctx.docker.renameContainer(info.Id, replica);
        changes.push(`renamed ${nameOf(info)} back to ${replica}`);
        names.delete(nameOf(info));
        names.add(replica);
      }
      const wanted = recorded?.config.host_config['RestartPolicy'] as RestartPolicy | undefined;
      if (wanted?.Name && wanted.Name !== 'no' && info.HostConfig.RestartPolicy?.Name !== wanted.Name) {
        await announce(ctx, STEP.rearmOld, d);
        await ctx.docker.setRestartPolicy(info.Id, {
          Name: wanted.Name,
          MaximumRetryCount: wanted.MaximumRetryCount ?? 0,
        });
      }
      // Gone and made again: it ran before (a release is restored running rather than left down).
      const wasRunning = recreated || isRunning(info) || stoppedSince(info, r.startedAt);
      if (!wasRunning) continue;
      if (!isRunning(info)) {
        await announce(ctx, STEP.startOld, d);
        await ctx.docker.startContainer(info.Id);
        changes.push(`started ${replica} again`);
      }
      const gate = await healthGate(ctx, info.Id, ctx.healthTimeoutMs, 0);
      if (gate.ok) running.push(gate.detail);
      else problems.push(`${replica} is back but ${gate.reason}`);
    } catch (err) {
      if (err instanceof ChangeAbortedError) throw err;
      problems.push(`${replica}: ${(err as Error).message}`);
    }
  }
  return { changes, problems, running };
}

/** A replaced container that is gone, created again from its release's record (like a rollback does). */
async function recreate(
  ctx: ExecContext,
  r: RestoreInput,
  recorded: ReleaseRecord['containers'][number],
  template: ContainerInspect | null,
): Promise<ContainerInspect> {
  const from = r.fromRecord!;
  const tagged = from.release_tag ? await ctx.docker.findImage(from.release_tag) : null;
  const imageRef = tagged?.Id === from.image_id ? from.release_tag! : from.image_id;
  const options = await createOptionsFromRecord(recorded.config, {
    name: recorded.name,
    imageRef,
    helmLabels: {
      // Not this operation's own label: what recovery recreates is the previous release.
      [HELM_LABEL.op]: `${r.intent.op}.restore`,
      [HELM_LABEL.release]: from.id,
      [HELM_LABEL.previous]: from.previous ?? '',
    },
    ...(ctx.secrets ? { secrets: ctx.secrets } : {}),
  });
  await announce(ctx, STEP.createNew, { replica: recorded.name, image: imageRef, restore: true });
  const id = await ctx.docker.createContainer(options, { allowedFrom: template });
  return ctx.docker.inspectContainer(id);
}

/** verifyReleaseIdentity on the service as a request's target resolves now; null: Docker shows `expected`. */
async function identityProblem(
  ctx: ExecContext,
  service: string,
  expected: ExpectedRelease,
  madeIds: readonly string[],
): Promise<string | null> {
  const resolved = resolveTarget(service, await ctx.docker.listContainers());
  if (!resolved.ok)
    return `after the change, Helm cannot tell which containers are ${service}: ${resolved.message}`;
  return verifyReleaseIdentity(ctx, identityOf(resolved.service), expected, madeIds);
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
