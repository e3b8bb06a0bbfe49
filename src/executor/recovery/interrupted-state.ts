import { planHash } from '../../approval/index.js';
import type { Plan } from '../../contracts/index.js';
import type { ContainerInspect } from '../../docker/docker-objects.js';
import { DockerNotFoundError } from '../../docker/docker-errors.js';
import { LABEL } from '../../docker/labels.js';
import type { ExecContext } from '../exec-context.js';
import { HELM_LABEL } from '../../docker/helm-labels.js';
import type { Intent } from '../../intents/intent-store.js';
import { isKeptContainer, keptRelease } from '../../docker/kept-containers.js';
import { resolveTarget } from '../../docker/target-resolution.js';
import { inspectActive, nameOf } from '../target-containers.js';

/**
 * What recovery reads about a service after a crash, always from what Docker shows now: every
 * container of the service (the active ones, the kept ones of earlier releases, and whatever the
 * interrupted operation created, found by its `helm.op` label), inspected.
 */

/** An intent as recovery rewrites it: its step becomes `recover_<step>`; the crash step is kept. */
export type RecoveringIntent = Intent & { recovering_from?: string };

/** The step at which the operation stopped (not a step recovery itself recorded since). */
export function crashStep(intent: RecoveringIntent): string {
  return intent.recovering_from ?? intent.step;
}

/**
 * The plan the interrupted operation ran: its exec job's (checked by the caller), else the one its
 * intent holds when that hashes to the intent's plan_hash; null when neither is this operation's.
 */
export function planOfIntent(intent: Intent, fromJob: Plan | null): Plan | null {
  if (fromJob && fromJob.action === intent.action) return fromJob;
  const kept = intent.plan;
  if (!kept || kept.action !== intent.action) return null;
  try {
    return planHash(kept) === intent.plan_hash ? kept : null;
  } catch {
    return null;
  }
}

/** How a recovery's outcome says when it happened: "after a crash at step <step>". */
export function afterCrashWords(intent: RecoveringIntent): string {
  return `after a crash at step ${crashStep(intent)}`;
}

/** The service's active containers (no kept ones), resolved as a request's target is now; gone: none. */
export async function activeContainersOf(
  ctx: Pick<ExecContext, 'docker'>,
  service: string,
): Promise<ContainerInspect[]> {
  const resolved = resolveTarget(service, await ctx.docker.listContainers());
  return resolved.ok ? inspectActive(ctx, resolved.service) : [];
}

/**
 * The service's containers, kept ones included, plus the ids given (the plan's, the records').
 * Resolution as for a target: by `ghost.service`, else the compose service, else the container name
 * (kept names are `<name>-helm-rN`). What an operation creates carries the service's labels, so it
 * is found here; a `helm.op` label alone never brings in a container (op ids are job ids, which a
 * Redis that lost its data gives out again, and other services' containers are none of recovery's
 * business).
 */
export async function serviceContainers(
  ctx: Pick<ExecContext, 'docker'>,
  intent: Pick<Intent, 'service'>,
  extraIds: readonly string[] = [],
): Promise<ContainerInspect[]> {
  const all = await ctx.docker.listContainers();
  const service = intent.service;
  const byLabel = all.filter((c) => c.labels[LABEL.service] === service);
  const byCompose = all.filter((c) => c.labels[LABEL.composeService] === service);
  const byName = all.filter(
    (c) => c.name === service || (isKeptContainer(c) && c.name.startsWith(`${service}-helm-`)),
  );
  const group = byLabel.length > 0 ? byLabel : byCompose.length > 0 ? byCompose : byName;
  const ids = new Set([...group.map((c) => c.id), ...extraIds]);
  const infos = await Promise.all([...ids].map((id) => inspectOrNull(ctx, id)));
  return infos
    .filter((i): i is ContainerInspect => i !== null)
    .sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
}

export async function inspectOrNull(
  ctx: Pick<ExecContext, 'docker'>,
  id: string,
): Promise<ContainerInspect | null> {
  try {
    return await ctx.docker.inspectContainer(id);
  } catch (err) {
    if (err instanceof DockerNotFoundError) return null;
    throw err;
  }
}

export function isRunning(info: ContainerInspect): boolean {
  return info.State.Running === true || info.State.Restarting === true;
}

export function isActiveName(info: ContainerInspect): boolean {
  return keptRelease(nameOf(info)) === null;
}

/**
 * The name a replica runs under, from a kept name: `web-helm-r3` → `web`, and the variant Helm uses
 * when that name was taken, `web-<8 hex of the id>-helm-r3` → `web`.
 */
export function replicaNameOf(info: ContainerInspect): string {
  const name = nameOf(info);
  const release = keptRelease(name);
  if (!release) return name;
  const base = name.slice(0, -`-helm-${release}`.length);
  const idTail = `-${info.Id.slice(0, 8)}`;
  return base.endsWith(idTail) ? base.slice(0, -idTail.length) : base;
}

/**
 * Whether this operation stopped `info` (it exited after the operation began), as opposed to a
 * container that was already stopped before. Unknown start: assume it ran (a release is restored
 * running rather than left down).
 */
export function stoppedSince(info: ContainerInspect, startedAt: Date | null): boolean {
  if (isRunning(info)) return false;
  if (!startedAt) return true;
  const finished = Date.parse(info.State.FinishedAt ?? '');
  // A container that never ran has FinishedAt 0001-01-01: it did not run before either.
  return Number.isFinite(finished) && finished >= startedAt.getTime() - 1000;
}

/**
 * Whether this operation created `info`: it carries the operation's `helm.op` and the release the
 * operation brings (`helm.release`), and (when the start is known) was created after it began.
 */
export function createdBy(
  info: ContainerInspect,
  intent: Pick<Intent, 'op' | 'to_release'>,
  startedAt: Date | null,
): boolean {
  const labels = info.Config.Labels ?? {};
  if (labels[HELM_LABEL.op] !== intent.op) return false;
  if (intent.to_release && labels[HELM_LABEL.release] !== intent.to_release) return false;
  if (startedAt && Date.parse(info.Created) < startedAt.getTime() - 1000) return false;
  return true;
}

/** Whether `info` was (re)started after the operation began. */
export function startedSince(info: ContainerInspect, startedAt: Date | null): boolean | null {
  if (!startedAt) return null;
  const started = Date.parse(info.State.StartedAt ?? '');
  return Number.isFinite(started) && started >= startedAt.getTime() - 1000;
}

/** The environment the containers say they are in (the strongest wins; none: production). */
export function environmentOfInfos(infos: readonly ContainerInspect[]): string {
  const found = new Set(infos.map((i) => i.Config.Labels?.[LABEL.environment]));
  for (const env of ['production', 'staging', 'dev']) if (found.has(env)) return env;
  return 'production';
}
