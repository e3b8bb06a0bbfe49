import type { ActionOutcome } from '../actions/action-types.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { announce, ChangeAbortedError, type ExecContext, type ExecMeta } from './exec-context.js';
import {
  onContainers,
  type OnContainers,
  NOTHING_CHANGED,
  withOpId,
  errorOutcome,
} from './operation-prelude.js';
import { bindsFixedHostPort } from '../observe/fixed-port.js';
import { lastLogs } from './last-logs.js';
import { MAINTENANCE_STEP as STEP } from './maintenance-steps.js';
import { ScaleFailed, type ScaleUpProgress, scaleUp, type Undo, undoScaleUp } from './scale-up.js';
import { captureConfig, configDigest } from '../releases/release-config.js';
import { writeServiceRollbackDoc } from './release-bookkeeping.js';
import { recordedReleaseOf } from '../releases/release-info.js';
import type { ReleaseRecord } from '../releases/release-store.js';
import { stopTimeout } from './replica-switch.js';
import { isUp, scaleChanges } from '../plan/scale-choice.js';
import { clearScaleTemplate, writeScaleTemplate } from './scale-template.js';
import { nameOf } from './target-containers.js';
import { healthWords, plural, secondsText } from './outcome-words.js';

/**
 * Scales a service to `replicas` running containers.
 *
 *  - Which containers stay: the running ones, oldest first, then the stopped ones (oldest first);
 *    the rest are removed newest first (stop_replica, remove_replica; never their volumes).
 *  - Up: stopped containers that stay are started again (start_stopped; the scale template's restart
 *    policy is restored first, rearm_template), then new replicas are created one at a time as copies
 *    of replica 1 (the oldest running one): its own configuration (recreateOptions on its own image:
 *    labels kept, `ghost.*` written explicitly, `helm.op` this operation; its anonymous volumes are
 *    not shared, each copy gets its own), named `<service>-<n>` with the first free n ≥ 2
 *    (create_replica, start_replica). Each must pass its health check within ctx.healthTimeoutMs
 *    (no stability window: the configuration already runs as replica 1). A failure undoes this scale
 *    up (new replicas stopped and removed, started ones stopped again): health_check_failed.
 *  - 0: the last replica is stopped and kept as the template (stop_template), its restart policy set
 *    to "no" so an engine restart cannot bring it back (disarm_template; the policy it had is written
 *    to `<memoryDir>/scale/<service>.json` first); a later scale up starts from it.
 *  - Refused before any change: more than 1 replica of a service whose replicas bind a fixed host
 *    port (bindsFixedHostPort: not_supported), of a service known only by its container name (new
 *    replicas could not be found as the same target: not_supported), of a compose service
 *    (unavailable: compose scales its own services), protected roles.
 *  - The current release record, when it describes the containers, is updated to the new set.
 */
export async function scaleService(
  ctx: ExecContext,
  service: ResolvedService,
  replicas: number,
  meta: ExecMeta,
  /** The plan's remove_containers: the containers that go must be exactly these. */
  plannedRemovals?: readonly string[],
): Promise<ActionOutcome> {
  return onContainers(
    ctx,
    service,
    {
      what: `scale of ${service.name} to ${replicas} failed`,
      refusing: 'scale it',
      ifNone: `${service.name} has no container to scale; ${NOTHING_CHANGED}`,
      notForCompose: `${service.name} is a service of compose project ${service.composeProject}: compose scales its own services (docker compose up --scale), which this Helm does not run; ${NOTHING_CHANGED}`,
    },
    (op) => scale(op, replicas, withOpId(meta), plannedRemovals),
  );
}

const NO_RESTART: Readonly<Record<string, true>> = { no: true, '': true };

// Which containers stay and which go is part of the plan Warden signs (plan/scale-choice.ts).
export { type ScalePlanOfContainers, scaleChanges } from '../plan/scale-choice.js';

function shortIds(ids: readonly string[]): string {
  return ids.length === 0
    ? 'none'
    : [...ids]
        .sort()
        .map((id) => id.slice(0, 12))
        .join(', ');
}

async function scale(
  op: OnContainers,
  replicas: number,
  meta: ExecMeta & { opId: string },
  plannedRemovals: readonly string[] | undefined,
): Promise<ActionOutcome> {
  const { ctx, service, infos, started } = op;
  const name = service.name;
  const from = infos.filter(isUp).length;
  const changes = scaleChanges(infos, replicas);
  const refused = await scaleRefusal(ctx, service, replicas, changes, plannedRemovals);
  if (refused) return refused;
  const source = changes.keep[0]!;
  const t = changes.template;
  const templateReady = !t || (!isUp(t) && (t.HostConfig.RestartPolicy?.Name ?? 'no') in NO_RESTART);
  if (changes.start.length === 0 && changes.create === 0 && changes.remove.length === 0 && templateReady) {
    return {
      ok: true,
      outcome:
        replicas === 0
          ? `${name} is already scaled to 0 (${nameOf(source)} kept stopped as the template); nothing changed`
          : `${name} already runs ${plural(replicas, 'replica')}; nothing changed`,
      data: { service: name, from, to: replicas, containers: infos.map(nameOf), ms: 0 },
    };
  }

  const current = await recordedReleaseOf(ctx, name, infos);
  const removed = await removeReplicas(ctx, changes.remove);
  const templateName = changes.template ? await parkTemplate(ctx, changes.template, name, meta) : null;
  const progress: ScaleUpProgress = { undo: { created: [], started: [] }, healthy: [] };
  try {
    await scaleUp(ctx, progress, {
      name,
      start: changes.start,
      create: changes.create,
      source,
      opId: meta.opId,
      release: current?.id ?? null,
    });
  } catch (err) {
    if (err instanceof ChangeAbortedError) throw err;
    return scaleUpFailed(ctx, err, progress.undo, { name, from, to: replicas, removed, started });
  }

  const { undo, healthy } = progress;
  if (undo.started.some((st) => st.rearmed)) await clearScaleTemplate(ctx.memoryDir, name);
  const finalIds = [...changes.keep.map((i) => i.Id), ...undo.created.map((c) => c.id)];
  const finalInfos = await Promise.all(finalIds.map((id) => ctx.docker.inspectContainer(id)));
  if (current) await recordScaledSet(ctx, current, finalInfos, meta.environment, replicas);

  const ms = performance.now() - started;
  const templateText = templateName
    ? `; ${templateName} stays stopped as the template for a later scale up`
    : '';
  const details = [...new Set(healthy.map((h) => healthWords(h.detail)))];
  const healthText = healthy.length > 0 ? `; new replicas healthy (${details.join('; ')})` : '';
  return {
    ok: true,
    outcome: `scaled ${name} from ${from} to ${plural(replicas, 'replica')} in ${secondsText(ms)}${templateText}${healthText}`,
    data: {
      service: name,
      from,
      to: replicas,
      started: undo.started.map((s) => s.name),
      created: undo.created.map((c) => c.name),
      removed,
      template: templateName,
      containers: finalInfos.map((i) => ({
        name: nameOf(i),
        id: i.Id.slice(0, 12),
        running: isUp(i),
      })),
      ms: Math.round(ms),
    },
  };
}

/** What scale refuses before any change: a stale plan, and more replicas than the service can run. */
async function scaleRefusal(
  ctx: ExecContext,
  service: OnContainers['service'],
  replicas: number,
  changes: ReturnType<typeof scaleChanges>,
  plannedRemovals: readonly string[] | undefined,
): Promise<ActionOutcome | null> {
  const name = service.name;
  const nothing = NOTHING_CHANGED;
  const goes = changes.remove.map((i) => i.Id).sort();
  if (plannedRemovals && goes.join(',') !== [...plannedRemovals].sort().join(','))
    return {
      ok: false,
      code: 'stale_plan',
      message: `${name} changed since the plan was made: the plan removes ${shortIds(plannedRemovals)}, but now ${shortIds(goes)} would go; ${nothing}`,
    };
  const source = changes.keep[0]!;
  if (replicas > 1) {
    if (service.via === 'container_name')
      return {
        ok: false,
        code: 'not_supported',
        message: `${name} is known only by its container name, so a second replica could not be found as ${name}: label it ghost.service=${name} to scale it; ${nothing}`,
      };
    const fixed = bindsFixedHostPort(source, await ctx.docker.findImage(source.Image));
    if (fixed.fixed)
      return {
        ok: false,
        code: 'not_supported',
        message: `${name} cannot run ${replicas} replicas: ${fixed.why}, so a second replica could not bind it (and a loopback health check would be answered by the first); ${nothing}`,
      };
  }
  return null;
}

/** Down first: the newest replicas go (never their volumes). */
async function removeReplicas(ctx: ExecContext, remove: readonly ContainerInspect[]): Promise<string[]> {
  const removed: string[] = [];
  for (const info of remove) {
    const d = { replica: nameOf(info), container: info.Id };
    if (isUp(info)) {
      await announce(ctx, STEP.stopReplica, { ...d, timeout_s: stopTimeout(info) });
      await ctx.docker.stopContainer(info.Id, stopTimeout(info));
    }
    await announce(ctx, STEP.removeReplica, d);
    await ctx.docker.removeContainer(info.Id, { volumes: false });
    removed.push(nameOf(info));
  }
  return removed;
}

/** Scale to 0: the last replica stopped and kept as the template, its restart policy written aside and set to "no". */
async function parkTemplate(
  ctx: ExecContext,
  t: ContainerInspect,
  name: string,
  meta: ExecMeta,
): Promise<string> {
  const templateName = nameOf(t);
  const d = { replica: templateName, container: t.Id };
  if (isUp(t)) {
    await announce(ctx, STEP.stopTemplate, { ...d, timeout_s: stopTimeout(t) });
    await ctx.docker.stopContainer(t.Id, stopTimeout(t));
  }
  const policy = t.HostConfig.RestartPolicy;
  if (policy?.Name && policy.Name !== 'no') {
    await writeScaleTemplate(ctx.memoryDir, {
      service: name,
      template_id: t.Id,
      template_name: templateName,
      restart_policy: { Name: policy.Name, MaximumRetryCount: policy.MaximumRetryCount ?? 0 },
      at: ctx.clock.now().toISOString(),
      op_id: meta.opId ?? null,
    });
    await announce(ctx, STEP.disarmTemplate, d);
    await ctx.docker.setRestartPolicy(t.Id, { Name: 'no' });
  }
  return templateName;
}

/** A scale up that failed: undone (health_check_failed), or what could not be undone. */
async function scaleUpFailed(
  ctx: ExecContext,
  err: unknown,
  undo: Undo,
  d: { name: string; from: number; to: number; removed: readonly string[]; started: number },
): Promise<ActionOutcome> {
  const { name, from } = d;
  const reason = err instanceof ScaleFailed ? err.message : (err as Error).message;
  const failedId = err instanceof ScaleFailed ? err.failedId : null;
  const failedName = err instanceof ScaleFailed ? err.failedName : name;
  const logs = failedId ? await lastLogs(ctx, failedId, failedName) : [];
  const problems = await undoScaleUp(ctx, undo);
  const restoredTo = from - d.removed.length;
  return {
    ok: false,
    code: err instanceof ScaleFailed ? 'health_check_failed' : failureCode(err),
    message: ctx.redactor.redact(
      `scale of ${name} from ${from} to ${d.to} failed: ${reason}. ${
        problems.length === 0
          ? `Undone: ${name} runs ${plural(restoredTo, 'replica')} as before`
          : `Undoing it failed: ${problems.join('; ')}`
      }`,
    ),
    data: {
      service: name,
      from,
      to: d.to,
      failed_replica: failedName,
      reason: ctx.redactor.redact(reason),
      undone: problems.length === 0,
      last_logs: logs,
      ms: Math.round(performance.now() - d.started),
    },
  };
}

function failureCode(err: unknown): string {
  const o = errorOutcome(err, '');
  return o.ok ? 'internal' : o.code;
}

/** The current release now has these containers (its replicas, or its template at 0); recovery too. */
export async function recordScaledSet(
  ctx: ExecContext,
  current: ReleaseRecord,
  infos: readonly ContainerInspect[],
  environment: string,
  replicas: number,
): Promise<void> {
  const containers = infos.map((info) => ({
    name: nameOf(info),
    id: info.Id,
    config: captureConfig(info, ctx.redactor),
  }));
  const updated: ReleaseRecord = {
    ...current,
    containers,
    config_digest: configDigest(containers.map((c) => c.config)),
  };
  await ctx.releases.saveRelease(updated, { current: true });
  await writeServiceRollbackDoc(ctx, current.service, environment, `scale to ${replicas}`, updated);
}
