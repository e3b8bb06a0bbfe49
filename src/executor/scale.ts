import type { ActionOutcome } from '../actions/action-types.js';
import type { ContainerCreateOptions, ContainerInspect, RestartPolicy } from '../docker/docker-client.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { announce, ChangeAbortedError, type ExecContext, type ExecMeta } from './exec-context.js';
import { onContainers, type OnContainers, NOTHING_CHANGED, withOpId } from './operation-prelude.js';
import { bindsFixedHostPort } from '../observe/fixed-port.js';
import { waitHealthy } from './health-gate.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { lastLogs } from './last-logs.js';
import { MAINTENANCE_STEP as STEP } from './maintenance-steps.js';
import { recreateOptions } from './recreate-config.js';
import { captureConfig, configDigest } from '../releases/release-config.js';
import { writeServiceRollbackDoc } from './release-records.js';
import { recordedReleaseOf } from '../releases/release-info.js';
import type { ReleaseRecord } from '../releases/release-store.js';
import { stopTimeout } from './replica-switch.js';
import { isUp, scaleChanges } from '../plan/scale-choice.js';
import { clearScaleTemplate, readScaleTemplate, writeScaleTemplate } from './scale-template.js';
import { errorOutcome, healthWords, nameOf, plural, secondsText } from './service-state.js';

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

/** `<service>-<n>` for the first free n ≥ 2. */
export function replicaNames(service: string, count: number, taken: ReadonlySet<string>): string[] {
  const names: string[] = [];
  for (let n = 2; names.length < count; n++) {
    const name = `${service}-${n}`;
    if (!taken.has(name)) names.push(name);
  }
  return names;
}

interface Undo {
  /** Containers this scale created (removed on undo). */
  created: Array<{ id: string; name: string }>;
  /** Stopped containers this scale started (stopped again on undo; the template disarmed again). */
  started: Array<{ id: string; name: string; rearmed: boolean }>;
}

class ScaleFailed extends Error {
  constructor(
    message: string,
    readonly failedId: string | null,
    readonly failedName: string,
  ) {
    super(message);
  }
}

async function scale(
  op: OnContainers,
  replicas: number,
  meta: ExecMeta,
  plannedRemovals: readonly string[] | undefined,
): Promise<ActionOutcome> {
  const { ctx, service, infos, started } = op;
  const name = service.name;
  const nothing = NOTHING_CHANGED;

  const from = infos.filter(isUp).length;
  const changes = scaleChanges(infos, replicas);
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
  const removed: string[] = [];
  // Down first: the newest replicas go (never their volumes).
  for (const info of changes.remove) {
    const d = { replica: nameOf(info), container: info.Id };
    if (isUp(info)) {
      await announce(ctx, STEP.stopReplica, { ...d, timeout_s: stopTimeout(info) });
      await ctx.docker.stopContainer(info.Id, stopTimeout(info));
    }
    await announce(ctx, STEP.removeReplica, d);
    await ctx.docker.removeContainer(info.Id, { volumes: false });
    removed.push(nameOf(info));
  }

  let templateName: string | null = null;
  if (changes.template) {
    const t = changes.template;
    templateName = nameOf(t);
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
  }

  const undo: Undo = { created: [], started: [] };
  const healthy: Array<{ name: string; id: string; check: string; detail: string }> = [];
  try {
    const template = await readScaleTemplate(ctx.memoryDir, name);
    for (const info of changes.start) {
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
      undo.started.push({ id: info.Id, name: rname, rearmed });
      await announce(ctx, STEP.startStopped, d);
      await ctx.docker.startContainer(info.Id);
      const gate = await waitHealthy(ctx, info.Id, ctx.healthTimeoutMs);
      if (!gate.ok) throw new ScaleFailed(`${rname} ${gate.reason}`, info.Id, rname);
      healthy.push({ name: rname, id: info.Id, check: gate.check, detail: gate.detail });
    }

    if (changes.create > 0) {
      // Replica 1 as it is now (its restart policy restored when it was the template).
      const replica1 = await ctx.docker.inspectContainer(source.Id);
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
      for (const rname of replicaNames(name, changes.create, taken)) {
        const options = copyOptions(replica1, image, imageRef, rname, meta.opId ?? '', current?.id ?? null);
        await announce(ctx, STEP.createReplica, { replica: rname, image: imageRef, from: nameOf(replica1) });
        const id = await ctx.docker.createContainer(options, { allowedFrom: replica1 });
        undo.created.push({ id, name: rname });
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
        healthy.push({ name: rname, id, check: gate.check, detail: gate.detail });
      }
    }
  } catch (err) {
    if (err instanceof ChangeAbortedError) throw err;
    const reason = err instanceof ScaleFailed ? err.message : (err as Error).message;
    const failedId = err instanceof ScaleFailed ? err.failedId : null;
    const failedName = err instanceof ScaleFailed ? err.failedName : name;
    const logs = failedId ? await lastLogs(ctx, failedId, failedName) : [];
    const problems = await undoScaleUp(ctx, undo);
    const restoredTo = from - removed.length;
    return {
      ok: false,
      code: err instanceof ScaleFailed ? 'health_check_failed' : failureCode(err),
      message: ctx.redactor.redact(
        `scale of ${name} from ${from} to ${replicas} failed: ${reason}. ${
          problems.length === 0
            ? `Undone: ${name} runs ${plural(restoredTo, 'replica')} as before`
            : `Undoing it failed: ${problems.join('; ')}`
        }`,
      ),
      data: {
        service: name,
        from,
        to: replicas,
        failed_replica: failedName,
        reason: ctx.redactor.redact(reason),
        undone: problems.length === 0,
        last_logs: logs,
        ms: Math.round(performance.now() - started),
      },
    };
  }

  if (undo.started.some((st) => st.rearmed)) await clearScaleTemplate(ctx.memoryDir, name);
  const finalIds = [...changes.keep.map((i) => i.Id), ...undo.created.map((c) => c.id)];
  const finalInfos = await Promise.all(finalIds.map((id) => ctx.docker.inspectContainer(id)));
  if (current) await updateRecord(ctx, current, finalInfos, meta.environment, replicas);

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

function failureCode(err: unknown): string {
  const o = errorOutcome(err, '');
  return o.ok ? 'internal' : o.code;
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

async function undoScaleUp(ctx: ExecContext, undo: Undo): Promise<string[]> {
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

/** The current release now has these containers (its replicas, or its template at 0). */
async function updateRecord(
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
