import type { ContainerCreateOptions, ContainerInspect, RestartPolicy } from '../docker/docker-objects.js';
import { announce, ChangeAbortedError, type ExecContext } from './exec-context.js';
import { waitHealthy } from './health-gate.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { MAINTENANCE_STEP as STEP } from './maintenance-steps.js';
import { recreateOptions } from './replacement-options.js';
import { stopTimeout } from './replica-switch.js';
import { isUp } from '../plan/scale-choice.js';
import { readScaleTemplate } from './scale-template.js';
import { nameOf } from './target-containers.js';

/**
 * A scale up, one replica at a time: stopped replicas that stay are started again (the scale
 * template's restart policy restored first), then new replicas are created as copies of replica 1;
 * each must pass its health check. What it changed is kept in `undo`, so a failure can be undone.
 */

export interface Undo {
  /** Containers this scale created (removed on undo). */
  created: Array<{ id: string; name: string }>;
  /** Stopped containers this scale started (stopped again on undo; the template disarmed again). */
  started: Array<{ id: string; name: string; rearmed: boolean }>;
}

export class ScaleFailed extends Error {
  constructor(
    message: string,
    readonly failedId: string | null,
    readonly failedName: string,
  ) {
    super(message);
  }
}

export interface HealthyReplica {
  name: string;
  id: string;
  check: string;
  detail: string;
}

/** What a scale up changed so far (for its undo) and which replicas passed their health check. */
export interface ScaleUpProgress {
  undo: Undo;
  healthy: HealthyReplica[];
}

/** Throws ScaleFailed when a replica does not come up healthy (or ChangeAbortedError when the lease is lost). */
export async function scaleUp(
  ctx: ExecContext,
  p: ScaleUpProgress,
  plan: {
    name: string;
    start: readonly ContainerInspect[];
    create: number;
    source: ContainerInspect;
    opId: string;
    release: string | null;
  },
): Promise<void> {
  await startStopped(ctx, p, plan.name, plan.start);
  if (plan.create > 0) await createCopies(ctx, p, plan);
}

async function startStopped(
  ctx: ExecContext,
  p: ScaleUpProgress,
  name: string,
  start: readonly ContainerInspect[],
): Promise<void> {
  const template = await readScaleTemplate(ctx.memoryDir, name);
  for (const info of start) {
    const rname = nameOf(info);
    const d = { replica: rname, container: info.Id };
    let rearmed = false;
    if (
      template?.template_id === info.Id &&
      info.HostConfig.RestartPolicy?.Name !== template.restart_policy.Name
    ) {
      await announce(ctx, STEP.rearmTemplate, d);
      await ctx.docker.setRestartPolicy(info.Id, template.restart_policy);
      rearmed = true;
    }
    p.undo.started.push({ id: info.Id, name: rname, rearmed });
    await announce(ctx, STEP.startStopped, d);
    await ctx.docker.startContainer(info.Id);
    const gate = await waitHealthy(ctx, info.Id, ctx.healthTimeoutMs);
    if (!gate.ok) throw new ScaleFailed(`${rname} ${gate.reason}`, info.Id, rname);
    p.healthy.push({ name: rname, id: info.Id, check: gate.check, detail: gate.detail });
  }
}

async function createCopies(
  ctx: ExecContext,
  p: ScaleUpProgress,
  plan: { name: string; create: number; source: ContainerInspect; opId: string; release: string | null },
): Promise<void> {
  // Replica 1 as it is now (its restart policy restored when it was the template).
  const replica1 = await ctx.docker.inspectContainer(plan.source.Id);
  const image = await ctx.docker.findImage(replica1.Image);
  if (!image)
    throw new ScaleFailed(
      `the image of ${nameOf(replica1)} (${replica1.Image}) is no longer on the engine`,
      null,
      nameOf(replica1),
    );
  const tagged = await ctx.docker.findImage(replica1.Config.Image);
  const imageRef = tagged?.Id === replica1.Image ? replica1.Config.Image : replica1.Image;
  const taken = new Set((await ctx.docker.listContainers()).map((c) => c.name));
  for (const rname of replicaNames(plan.name, plan.create, taken)) {
    const options = copyOptions(replica1, image, imageRef, rname, plan.opId, plan.release);
    await announce(ctx, STEP.createReplica, { replica: rname, image: imageRef, from: nameOf(replica1) });
    const id = await ctx.docker.createContainer(options, { allowedFrom: replica1 });
    p.undo.created.push({ id, name: rname });
    const made = await ctx.docker.inspectContainer(id);
    if (made.Image !== replica1.Image)
      throw new ScaleFailed(
        `${rname} was created from ${made.Image}, not ${replica1.Image} as ${nameOf(replica1)} runs (the tag moved)`,
        id,
        rname,
      );
    await announce(ctx, STEP.startReplica, { replica: rname, container: id });
    await ctx.docker.startContainer(id);
    const gate = await waitHealthy(ctx, id, ctx.healthTimeoutMs);
    if (!gate.ok) throw new ScaleFailed(`${rname} ${gate.reason}`, id, rname);
    p.healthy.push({ name: rname, id, check: gate.check, detail: gate.detail });
  }
}

/** `<service>-<n>` for the first free n ≥ 2. */
export function replicaNames(service: string, count: number, taken: ReadonlySet<string>): string[] {
  const names: string[] = [];
  for (let n = 2; names.length < count; n++) {
    const name = `${service}-${n}`;
    if (!taken.has(name)) names.push(name);
  }
  return names;
}

/** Create options for a copy of replica 1 (pure): its own configuration on its own image. */
export function copyOptions(
  replica1: ContainerInspect,
  image: Parameters<typeof recreateOptions>[0]['newImage'],
  imageRef: string,
  name: string,
  opId: string,
  /** The release replica 1 runs, when Helm has a record of it: the copy belongs to it too. */
  release: string | null = null,
): ContainerCreateOptions {
  const r = recreateOptions({
    old: replica1,
    oldImage: image,
    newImage: image,
    imageRef,
    name,
    helmLabels: { [HELM_LABEL.op]: opId, ...(release ? { [HELM_LABEL.release]: release } : {}) },
  });
  // The same image on both sides: an identity label can never be introduced.
  if (!r.ok) throw new Error(r.problem);
  // recreateOptions carries the old container's anonymous volumes over by name; a new replica beside
  // it must not share them: it gets its own, as Docker makes them.
  const hostConfig = { ...r.options.HostConfig, Mounts: [...(replica1.HostConfig.Mounts ?? [])] };
  return { ...r.options, HostConfig: hostConfig };
}

/** Undoes a failed scale up, newest first: what could not be undone, in words. */
export async function undoScaleUp(ctx: ExecContext, undo: Undo): Promise<string[]> {
  const problems: string[] = [];
  for (const c of [...undo.created].reverse()) {
    try {
      const info = await ctx.docker.inspectContainer(c.id).catch(() => null);
      if (!info) continue;
      if (isUp(info)) {
        await announce(ctx, STEP.undoStopReplica, { replica: c.name, container: c.id });
        await ctx.docker.stopContainer(c.id, stopTimeout(info));
      }
      await announce(ctx, STEP.undoRemoveReplica, { replica: c.name, container: c.id });
      await ctx.docker.removeContainer(c.id, { force: true, volumes: true });
    } catch (err) {
      if (err instanceof ChangeAbortedError) throw err;
      problems.push(`${c.name}: ${(err as Error).message}`);
    }
  }
  for (const s of [...undo.started].reverse()) {
    try {
      const info = await ctx.docker.inspectContainer(s.id);
      if (isUp(info)) {
        await announce(ctx, STEP.undoStopStarted, { replica: s.name, container: s.id });
        await ctx.docker.stopContainer(s.id, stopTimeout(info));
      }
      if (s.rearmed) {
        await announce(ctx, STEP.disarmTemplate, { replica: s.name, container: s.id });
        await ctx.docker.setRestartPolicy(s.id, { Name: 'no' } satisfies RestartPolicy);
      }
    } catch (err) {
      if (err instanceof ChangeAbortedError) throw err;
      problems.push(`${s.name}: ${(err as Error).message}`);
    }
  }
  return problems;
}
