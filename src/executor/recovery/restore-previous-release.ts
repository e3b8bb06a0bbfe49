import type { ContainerInspect, RestartPolicy } from '../../docker/docker-objects.js';
import { HELM_LABEL } from '../../docker/helm-labels.js';
import { keptName } from '../../docker/kept-containers.js';
import { createOptionsFromRecord } from '../../releases/release-config.js';
import type { ReleaseRecord } from '../../releases/release-store.js';
import { announce, ChangeAbortedError, type ExecContext } from '../exec-context.js';
import { healthGate } from '../health-gate.js';
import { stopTimeout } from '../replica-switch.js';
import { nameOf } from '../target-containers.js';
import { STEP } from '../steps.js';
import { inspectOrNull, isActiveName, isRunning, stoppedSince } from './interrupted-state.js';
import type { InterruptedSwitch } from './read-interrupted-switch.js';

/** What restoring did: the changes made, what went wrong, and the health of each replica now running. */
export interface Restored {
  changes: string[];
  problems: string[];
  running: string[];
}

/**
 * Back to what ran before an interrupted switch: the containers this operation created are stopped
 * and removed (a rollback's kept containers are stopped and renamed back to their kept names), and
 * the replaced containers are renamed back, their restart policy restored, started (when this
 * operation had stopped them) and health-checked. A replaced container that is gone is created again
 * from its release record. `mayTouchOld` false (production without the signed plan's release):
 * nothing of what ran before is touched.
 */
export async function restorePreviousRelease(
  ctx: ExecContext,
  sw: InterruptedSwitch,
  mayTouchOld: boolean,
): Promise<Restored> {
  const out: Restored = { changes: [], problems: [], running: [] };
  const template = sw.created[0] ?? null;
  await putAwayNewRelease(ctx, sw, out.changes);
  if (!mayTouchOld) {
    out.problems.push(
      `the production plan's release cannot be told from what runs (no plan and no record of ${sw.intent.from_release ?? 'a previous release'}): Helm restores nothing else; look at ${sw.name}`,
    );
    return out;
  }
  const names = new Set((await ctx.docker.listContainers()).map((c) => c.name));
  for (const id of sw.oldIds) await bringBackReplica(ctx, sw, id, { names, template, out });
  return out;
}

/** The new release goes: created containers removed, a rollback's kept ones put back. */
async function putAwayNewRelease(ctx: ExecContext, sw: InterruptedSwitch, changes: string[]): Promise<void> {
  for (const c of sw.created) {
    const now = await inspectOrNull(ctx, c.Id);
    if (!now) continue;
    const d = { replica: nameOf(now), container: now.Id };
    await stopIfRunning(ctx, now, d);
    await announce(ctx, STEP.removeNew, d);
    await ctx.docker.removeContainer(now.Id, { force: true });
    changes.push(`removed the new container ${nameOf(now)}`);
  }
  const taken = new Set((await ctx.docker.listContainers()).map((c) => c.name));
  for (const c of sw.reused) {
    const now = await inspectOrNull(ctx, c.Id);
    if (!now) continue;
    const d = { replica: nameOf(now), container: now.Id };
    if (await stopIfRunning(ctx, now, d)) changes.push(`stopped ${nameOf(now)}`);
    const policy = now.HostConfig.RestartPolicy;
    if (policy?.Name && policy.Name !== 'no') {
      await announce(ctx, STEP.disarmKept, d);
      await ctx.docker.setRestartPolicy(now.Id, { Name: 'no' });
    }
    if (isActiveName(now) && sw.toId) {
      let kept = keptName(nameOf(now), sw.toId);
      if (taken.has(kept)) kept = keptName(`${nameOf(now)}-${now.Id.slice(0, 8)}`, sw.toId);
      await announce(ctx, STEP.renameKeptBack, { ...d, to: kept });
      await ctx.docker.renameContainer(now.Id, kept);
      taken.delete(nameOf(now));
      taken.add(kept);
      changes.push(`kept ${nameOf(now)} again as ${kept}`);
    }
  }
}

/** Stops a container of the new release when it runs; true when it did. */
async function stopIfRunning(
  ctx: ExecContext,
  now: ContainerInspect,
  d: { replica: string; container: string },
): Promise<boolean> {
  if (!isRunning(now)) return false;
  await announce(ctx, STEP.stopNew, d);
  await ctx.docker.stopContainer(now.Id, stopTimeout(now));
  return true;
}

/**
 * One replica that ran before comes back, under its name, armed, started when this operation
 * stopped it. What goes wrong is a problem of this replica (the others are still restored); a
 * lost lease or a stop stops all.
 */
async function bringBackReplica(
  ctx: ExecContext,
  sw: InterruptedSwitch,
  id: string,
  { names, template, out }: { names: Set<string>; template: ContainerInspect | null; out: Restored },
): Promise<void> {
  const replica = sw.oldName(id);
  const recorded = sw.fromRecord?.containers.find((c) => c.id === id) ?? null;
  let info = await inspectOrNull(ctx, id);
  let recreated = false;
  try {
    if (!info) {
      if (!recorded || !sw.fromRecord) {
        out.problems.push(`${replica} (${id.slice(0, 12)}) is gone and no record can recreate it`);
        return;
      }
      info = await recreate(ctx, sw, recorded, template);
      recreated = true;
      out.changes.push(`recreated ${replica} from ${sw.fromRecord.id}'s record`);
      names.add(replica);
    }
    const d = { replica, container: info.Id };
    if (nameOf(info) !== replica) {
      if (names.has(replica)) {
        out.problems.push(
          `${replica} is taken by another container, so ${nameOf(info)} cannot get its name back`,
        );
        return;
      }
      await announce(ctx, STEP.renameOldBack, { ...d, to: replica });
      await ctx.docker.renameContainer(info.Id, replica);
      out.changes.push(`renamed ${nameOf(info)} back to ${replica}`);
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
    const wasRunning = recreated || isRunning(info) || stoppedSince(info, sw.startedAt);
    if (!wasRunning) return;
    if (!isRunning(info)) {
      await announce(ctx, STEP.startOld, d);
      await ctx.docker.startContainer(info.Id);
      out.changes.push(`started ${replica} again`);
    }
    const gate = await healthGate(ctx, info.Id, ctx.healthTimeoutMs, 0);
    if (gate.ok) out.running.push(gate.detail);
    else out.problems.push(`${replica} is back but ${gate.reason}`);
  } catch (err) {
    if (err instanceof ChangeAbortedError) throw err;
    out.problems.push(`${replica}: ${(err as Error).message}`);
  }
}

/** A replaced container that is gone, created again from its release's record (like a rollback does). */
async function recreate(
  ctx: ExecContext,
  sw: InterruptedSwitch,
  recorded: ReleaseRecord['containers'][number],
  template: ContainerInspect | null,
): Promise<ContainerInspect> {
  const from = sw.fromRecord!;
  const tagged = from.release_tag ? await ctx.docker.findImage(from.release_tag) : null;
  const imageRef = tagged?.Id === from.image_id ? from.release_tag! : from.image_id;
  const options = await createOptionsFromRecord(recorded.config, {
    name: recorded.name,
    imageRef,
    helmLabels: {
      // Not this operation's own label: what recovery recreates is the previous release.
      [HELM_LABEL.op]: `${sw.intent.op}.restore`,
      [HELM_LABEL.release]: from.id,
      [HELM_LABEL.previous]: from.previous ?? '',
    },
    ...(ctx.secrets ? { secrets: ctx.secrets } : {}),
  });
  await announce(ctx, STEP.createNew, { replica: recorded.name, image: imageRef, restore: true });
  const id = await ctx.docker.createContainer(options, { allowedFrom: template });
  return ctx.docker.inspectContainer(id);
}
