import type { ContainerCreateOptions, ContainerInspect, RestartPolicy } from '../docker/docker-objects.js';
import type { LogLine } from '../docker/logs-demux.js';
import { ChangeAbortedError, type ExecContext } from './exec-context.js';
import { healthGate } from './health-gate.js';
import { lastLogs } from './last-logs.js';
import { changeStep, loggedStep, type StopRecord, stopStep } from './step-log.js';
import { stopWaitOf } from '../observe/stop-timeout.js';
import { STEP } from './steps.js';

/**
 * Replaces a service's replicas one at a time, each health-gated, and undoes every replaced one
 * (newest first) when any fails: the engine under deploy and rollback. Each replica:
 *   stop_old → disarm_old → rename_old (kept as <name>-helm-<release>)
 *   → create_new | (rename_kept → rearm_kept) → start_new → health check → stability window.
 * Undo: stop_new → remove_new | (disarm_kept → rename_kept_back)
 *   → rename_old_back → rearm_old → start_old, then the restored replicas must pass their health check
 *   and Docker must show the service back on them (`verifyRestored`).
 * Each Docker change is announced first; an announcement that throws stops everything at once.
 */
export type ReplicaTarget =
  | {
      kind: 'create';
      options: ContainerCreateOptions;
      allowedFrom: ContainerInspect | null;
      /** The image id the created container must have (a tag that moved since the check is caught here). */
      expectImageId: string;
    }
  | { kind: 'kept'; id: string; keptName: string; restartPolicy: RestartPolicy };

export interface ReplicaStep {
  /** The name the replica runs under. */
  name: string;
  /** The container that runs under that name now (replaced and kept), or null. */
  old: ContainerInspect | null;
  /** What `old` is renamed to while kept. */
  oldKeptName: string | null;
  /** What replaces it; null: `old` is only stopped and kept (a release with fewer replicas). */
  next: ReplicaTarget | null;
}

export interface SwitchedReplica {
  name: string;
  id: string;
  check: string;
  detail: string;
}

export type SwitchResult =
  | { ok: true; replicas: SwitchedReplica[]; ms: number; stops: StopRecord[] }
  | {
      ok: false;
      stops: StopRecord[];
      /** Why the replica failed. */
      failure: string;
      failedReplica: string;
      lastLogs: LogLine[];
      /** Whether every replaced replica is back and passed its health check. */
      restored: boolean;
      /** What went wrong while restoring (rollback_failed), or how the restored replicas look. */
      restoreDetail: string;
      ms: number;
    };

interface Progress {
  step: ReplicaStep;
  oldWasRunning: boolean;
  oldStopped: StopRecord | null;
  oldPolicy: RestartPolicy | null;
  oldRenamed: boolean;
  newId: string | null;
  created: boolean;
  keptRenamed: boolean;
  keptRearmed: boolean;
  newStarted: boolean;
}

class ReplicaFailed extends Error {}

/** The identity check (verify-release-identity.ts) on the containers given: the problem, or null. */
export type ReleaseCheck = (containers: ReadonlyArray<{ id: string }>) => Promise<string | null>;

/**
 * `verify` (verify-release-identity.ts) runs once every replica passed its gate: a problem it names
 * fails the switch like a failed replica, and every replaced replica is undone. `verifyRestored`
 * (the same check, on the release that ran before) runs once the undo brought the replaced replicas
 * back and they passed their health check: a problem it names means the restore failed.
 */
export async function switchReplicas(
  ctx: ExecContext,
  steps: readonly ReplicaStep[],
  verify?: ReleaseCheck,
  verifyRestored?: ReleaseCheck,
): Promise<SwitchResult> {
  const started = performance.now();
  const done: Progress[] = [];
  const replicas: SwitchedReplica[] = [];
  let failure: { reason: string; progress: Progress } | null = null;

  for (const step of steps) {
    const p: Progress = {
      step,
      oldWasRunning: step.old?.State.Running === true,
      oldStopped: null,
      oldPolicy: null,
      oldRenamed: false,
      newId: null,
      created: false,
      keptRenamed: false,
      keptRearmed: false,
      newStarted: false,
    };
    done.push(p);
    try {
      // One replica's switch, from stopping the old one to the end of the new one's stability window.
      await loggedStep(ctx, 'switch_replica', { replica: step.name }, async () => {
        await apply(ctx, p);
        if (p.newId) {
          const gate = await healthGate(ctx, p.newId, ctx.healthTimeoutMs, ctx.stabilityWindowMs);
          if (!gate.ok) throw new ReplicaFailed(`${step.name}: ${gate.reason}`);
          replicas.push({ name: step.name, id: p.newId, check: gate.check, detail: gate.detail });
        }
      });
    } catch (err) {
      if (err instanceof ChangeAbortedError) throw err;
      failure = {
        reason: err instanceof ReplicaFailed ? err.message : `${step.name}: ${(err as Error).message}`,
        progress: p,
      };
      break;
    }
  }
  const wrong = !failure && verify && done.length > 0 ? await verify(replicas) : null;
  if (wrong) failure = { reason: wrong, progress: done[done.length - 1]! };
  const stops = done.flatMap((p) => (p.oldStopped ? [p.oldStopped] : []));
  if (!failure) return { ok: true, replicas, ms: Math.round(performance.now() - started), stops };

  const failed = failure.progress;
  const logs = failed.newId ? await lastLogs(ctx, failed.newId, failed.step.name) : [];
  ctx.logger.warn(
    { failure: true, replica: failed.step.name, reason: ctx.redactor.redact(failure.reason) },
    'replica failed; undoing the replaced replicas',
  );

  const { problems, restoredLooks } = await undoSwitch(ctx, steps, done, verifyRestored);
  return {
    ok: false,
    failure: failure.reason,
    failedReplica: failed.step.name,
    lastLogs: logs,
    restored: problems.length === 0,
    restoreDetail: problems.length === 0 ? restoredLooks.join('; ') : problems.join('; '),
    ms: Math.round(performance.now() - started),
    stops,
  };
}

/**
 * Every replaced replica undone, newest first; then, when that went through, each one that ran checked
 * healthy again and (verifyRestored) Docker shown back on the release that ran before.
 */
async function undoSwitch(
  ctx: ExecContext,
  steps: readonly ReplicaStep[],
  done: readonly Progress[],
  verifyRestored: ReleaseCheck | undefined,
): Promise<{ problems: string[]; restoredLooks: string[] }> {
  const problems: string[] = [];
  for (const p of [...done].reverse()) {
    try {
      await undo(ctx, p);
    } catch (err) {
      if (err instanceof ChangeAbortedError) throw err;
      problems.push(`${p.step.name}: ${(err as Error).message}`);
    }
  }
  const restoredLooks: string[] = [];
  if (problems.length === 0) {
    for (const p of done) {
      if (!p.step.old || !p.oldWasRunning) continue;
      const gate = await healthGate(ctx, p.step.old.Id, ctx.healthTimeoutMs, 0);
      if (gate.ok) restoredLooks.push(`${p.step.name}: ${gate.detail}`);
      else problems.push(`${p.step.name} is back but ${gate.reason}`);
    }
  }
  // Not when a replaced container was stopped before: it is restored stopped, which the check
  // (every container of the service running) would count against it.
  const olds = steps.flatMap((s) => (s.old ? [s.old] : []));
  if (problems.length === 0 && verifyRestored && olds.length > 0 && olds.every((o) => o.State.Running)) {
    const notBack = await verifyRestored(olds.map((o) => ({ id: o.Id })));
    if (notBack) problems.push(notBack);
  }
  return { problems, restoredLooks };
}

async function apply(ctx: ExecContext, p: Progress): Promise<void> {
  const { step } = p;
  const old = step.old;
  if (old) {
    const d = { replica: step.name, container: old.Id };
    if (p.oldWasRunning) p.oldStopped = await stopStep(ctx, STEP.stopOld, d, old);
    const policy = old.HostConfig.RestartPolicy;
    if (policy?.Name && policy.Name !== 'no') {
      await changeStep(ctx, STEP.disarmOld, d, () => ctx.docker.setRestartPolicy(old.Id, { Name: 'no' }));
      p.oldPolicy = { Name: policy.Name, MaximumRetryCount: policy.MaximumRetryCount ?? 0 };
    }
    const keptAs = step.oldKeptName;
    if (keptAs) {
      await changeStep(ctx, STEP.renameOld, { ...d, to: keptAs }, () =>
        ctx.docker.renameContainer(old.Id, keptAs),
      );
      p.oldRenamed = true;
    }
  }
  const next = step.next;
  if (!next) return;
  if (next.kind === 'create') {
    p.newId = await changeStep(
      ctx,
      STEP.createNew,
      { replica: step.name, image: next.options.Image ?? null },
      () => ctx.docker.createContainer(next.options, { allowedFrom: next.allowedFrom }),
    );
    p.created = true;
    const info = await ctx.docker.inspectContainer(p.newId);
    if (info.Image !== next.expectImageId)
      throw new ReplicaFailed(
        `${step.name} was created from ${info.Image}, not the verified ${next.expectImageId} (the tag moved)`,
      );
  } else {
    p.newId = next.id;
    await changeStep(
      ctx,
      STEP.renameKept,
      { replica: step.name, container: next.id, from: next.keptName },
      () => ctx.docker.renameContainer(next.id, step.name),
    );
    p.keptRenamed = true;
    if (next.restartPolicy.Name && next.restartPolicy.Name !== 'no') {
      await changeStep(ctx, STEP.rearmKept, { replica: step.name, container: next.id }, () =>
        ctx.docker.setRestartPolicy(next.id, next.restartPolicy),
      );
      p.keptRearmed = true;
    }
  }
  const newId = p.newId;
  await changeStep(ctx, STEP.startNew, { replica: step.name, container: newId }, () => {
    p.newStarted = true; // set before: a start that fails half-way is undone the same way
    return ctx.docker.startContainer(newId);
  });
}

async function undo(ctx: ExecContext, p: Progress): Promise<void> {
  const { step } = p;
  if (p.newId) {
    const d = { replica: step.name, container: p.newId };
    const info = await ctx.docker.inspectContainer(p.newId).catch(() => null);
    const newId = p.newId;
    if (info && (info.State.Running || info.State.Restarting)) await stopStep(ctx, STEP.stopNew, d, info);
    if (p.created) {
      if (info)
        await changeStep(ctx, STEP.removeNew, d, () => ctx.docker.removeContainer(newId, { force: true }));
    } else if (step.next?.kind === 'kept') {
      if (p.keptRearmed)
        await changeStep(ctx, STEP.disarmKept, d, () => ctx.docker.setRestartPolicy(newId, { Name: 'no' }));
      const keptAs = step.next.keptName;
      if (p.keptRenamed)
        await changeStep(ctx, STEP.renameKeptBack, { ...d, to: keptAs }, () =>
          ctx.docker.renameContainer(newId, keptAs),
        );
    }
  }
  const old = step.old;
  if (!old) return;
  const d = { replica: step.name, container: old.Id };
  if (p.oldRenamed)
    await changeStep(ctx, STEP.renameOldBack, { ...d, to: step.name }, () =>
      ctx.docker.renameContainer(old.Id, step.name),
    );
  const policy = p.oldPolicy;
  if (policy) await changeStep(ctx, STEP.rearmOld, d, () => ctx.docker.setRestartPolicy(old.Id, policy));
  if (p.oldStopped) await changeStep(ctx, STEP.startOld, d, () => ctx.docker.startContainer(old.Id));
}

/** A container's stop wait in seconds: its ghost.stop-timeout label, its StopTimeout, or Docker's 10 s. */
export function stopTimeout(info: ContainerInspect): number {
  return stopWaitOf(info).seconds;
}
