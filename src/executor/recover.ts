import type { Job } from 'bullmq';
import { planHash } from '../approval/index.js';
import type { AlertSender } from '../bus/alert-sender.js';
import type { Clock } from '../base/clock.js';
import type { Plan } from '../contracts/index.js';
import { resolveTarget } from '../docker/target-resolution.js';
import { type ExecResult, isGenuineExecJob, type SignedExecJob } from '../exec-job/exec-job.js';
import type { Logger } from '../log/logger.js';
import type { RunLog } from '../runlog/index.js';
import { announce, DEFAULT_STOP_TIMEOUT_S, type ExecContext, rethrowAbort } from './exec-context.js';
import { waitHealthy } from './health-gate.js';
import type { Intent, IntentStore } from '../intents/intent-store.js';
import type { LeaseManager } from './lease.js';
import { crashStep, isRunning, type RecoveringIntent, startedSince } from './recover-state.js';
import { recoverSwitch } from './recover-switch.js';
import { inspectActive, nameOf } from './target-containers.js';
import { healthWords, plural } from './outcome-words.js';
import { errorOutcome } from './operation-prelude.js';

/**
 * Crash recovery of the executors (issue 4, "Write-ahead intent"). An intent file on disk
 * (`<memoryDir>/intents/<op>.json`) means an operation began its change and has not ended. That is
 * found in two places:
 *  - an exec job that comes back after its worker died (BullMQ's stalled check): run-exec-job.ts
 *    hands it to `recoverExecJob` instead of checking and running it again;
 *  - the start-up sweep `recoverOrphanedIntents`, for intents whose exec job is gone or finished.
 * Either way `recoverOperation` reconciles from what Docker shows, never from what it assumes:
 *  - deploy / rollback (recover-switch.ts): the new release is running → its health gate runs again
 *    (health check and stability window), Docker must show the service's identity on it (the
 *    operations' own check, verify-release-identity.ts) and, passing, it is recorded as executed;
 *    anything else goes back to the release that ran before (for production: only the release the
 *    signed plan names). Nothing of the new release is created again: the same op is never applied
 *    twice.
 *  - restart: every container must be running and healthy (one that is stopped is started);
 *    the outcome says which were restarted after the operation began.
 *  - stop: every container must be stopped (one still running is stopped: finishing the change).
 * Recovery announces its own Docker changes like any operation (lease checked, the intent's step
 * recorded as `recover_<step>`), so a crash during recovery is recovered the same way.
 */
export interface RecoverDeps {
  /** The plan the operation ran (from its exec job, when it hashes to the intent's plan_hash); null: the intent alone. */
  plan: Plan | null;
  /** When the operation began (its exec job was added), to tell what it changed; null when unknown. */
  startedAt: Date | null;
}

export async function recoverOperation(
  ctx: ExecContext,
  intent: Intent,
  deps: RecoverDeps,
): Promise<ExecResult> {
  const plan = deps.plan && deps.plan.action === intent.action ? deps.plan : null;
  try {
    switch (intent.action) {
      case 'deploy':
      case 'rollback':
        return await recoverSwitch(ctx, { intent, plan, startedAt: deps.startedAt });
      case 'restart':
        return await recoverRestart(ctx, intent, deps.startedAt);
      case 'stop':
        return await recoverStop(ctx, intent, plan?.action === 'stop' ? plan.desired.timeout_s : null);
      default:
        return {
          ok: false,
          code: 'internal',
          message: `Helm stopped during ${intent.action} of ${intent.service} (step ${crashStep(intent)}) and has no recovery for ${intent.action}: look at ${intent.service} and send the request again if needed`,
          data: { recovered: false, crashed_at_step: crashStep(intent) },
        };
    }
  } catch (err) {
    rethrowAbort(err);
    return errorOutcome(
      err,
      `recovery of ${intent.action} ${intent.service} after a crash at step ${crashStep(intent)} failed`,
    );
  }
}

async function activeInfos(ctx: ExecContext, service: string) {
  const resolved = resolveTarget(service, await ctx.docker.listContainers());
  return resolved.ok ? inspectActive(ctx, resolved.service) : [];
}

async function recoverRestart(
  ctx: ExecContext,
  intent: RecoveringIntent,
  startedAt: Date | null,
): Promise<ExecResult> {
  const words = `after a crash at step ${crashStep(intent)}`;
  const infos = await activeInfos(ctx, intent.service);
  if (infos.length === 0)
    return {
      ok: false,
      code: 'unknown_target',
      message: `recovered ${words}: ${intent.service} has no container any more`,
    };
  const restarted: string[] = [];
  const notRestarted: string[] = [];
  const started: string[] = [];
  const healthy: string[] = [];
  for (const info of infos) {
    const name = nameOf(info);
    if (!isRunning(info)) {
      // Stopped half-way through its restart: finish it.
      await announce(ctx, 'start_container', { replica: name, container: info.Id });
      await ctx.docker.startContainer(info.Id);
      started.push(name);
    } else if (startedSince(info, startedAt) === false) notRestarted.push(name);
    else restarted.push(name);
    const gate = await waitHealthy(ctx, info.Id, ctx.healthTimeoutMs);
    if (!gate.ok)
      return {
        ok: false,
        code: 'health_check_failed',
        message: ctx.redactor.redact(`recovered ${words}: ${name} ${gate.reason}`),
        data: {
          recovered: true,
          crashed_at_step: crashStep(intent),
          restarted,
          started,
          not_restarted: notRestarted,
        },
      };
    healthy.push(healthWords(gate.detail));
  }
  const data = {
    recovered: true,
    crashed_at_step: crashStep(intent),
    restarted,
    started,
    not_restarted: notRestarted,
  };
  const all = `${plural(infos.length, 'container')} running and healthy (${healthy[0]})`;
  if (notRestarted.length > 0)
    return {
      ok: false,
      code: 'internal',
      message: `recovered ${words}: ${notRestarted.join(', ')} had not been restarted when Helm stopped and ${notRestarted.length === 1 ? 'was' : 'were'} left as ${notRestarted.length === 1 ? 'it was' : 'they were'}; ${all}. Send the request again to restart ${notRestarted.length === 1 ? 'it' : 'them'}`,
      data,
    };
  const how = startedAt ? 'restarted' : 'running';
  return {
    ok: true,
    outcome: `recovered ${words}: ${intent.service} ${how}${started.length > 0 ? ` (${started.join(', ')} started by recovery)` : ''}; ${all}`,
    data,
  };
}

async function recoverStop(
  ctx: ExecContext,
  intent: RecoveringIntent,
  timeoutS: number | null,
): Promise<ExecResult> {
  const words = `after a crash at step ${crashStep(intent)}`;
  const infos = await activeInfos(ctx, intent.service);
  const stoppedNow: string[] = [];
  for (const info of infos) {
    if (!isRunning(info)) continue;
    const name = nameOf(info);
    const t = timeoutS ?? DEFAULT_STOP_TIMEOUT_S;
    await announce(ctx, 'stop_container', { replica: name, container: info.Id, timeout_s: t });
    await ctx.docker.stopContainer(info.Id, t);
    const after = await ctx.docker.inspectContainer(info.Id);
    if (isRunning(after))
      return {
        ok: false,
        code: 'docker_error',
        message: `recovered ${words}: ${name} is still ${after.State.Status} after docker stop (timeout ${t} s)`,
      };
    stoppedNow.push(name);
  }
  return {
    ok: true,
    outcome: `recovered ${words}: ${intent.service} is stopped (${plural(infos.length, 'container')}${stoppedNow.length > 0 ? `; recovery stopped ${stoppedNow.join(', ')}` : ''})`,
    data: { recovered: true, crashed_at_step: crashStep(intent), stopped_by_recovery: stoppedNow },
  };
}

// ---------------------------------------------------------------------------------------------------
// Wiring: the executor's recovery, the job that came back, and the start-up sweep.
// ---------------------------------------------------------------------------------------------------

export interface ExecRecovery {
  recover(
    intent: Intent,
    opts: RecoverDeps & { beforeChange: ExecContext['beforeChange'] },
  ): Promise<ExecResult>;
}

/** The recovery an executor runs, on the same Docker surface and settings as its operations. */
export function makeRecovery(base: Omit<ExecContext, 'beforeChange'>): ExecRecovery {
  return {
    recover: (intent, { beforeChange, ...deps }) => recoverOperation({ ...base, beforeChange }, intent, deps),
  };
}

/** The intent of operation `op`, or null. An unreadable intent folder reads as none (logged by the caller). */
export async function findIntent(intents: Pick<IntentStore, 'list'>, op: string): Promise<Intent | null> {
  return (await intents.list()).find((i) => i.op === op) ?? null;
}

/** The plan of an exec job, when the job is genuine and its plan is the one the intent ran. */
function planOf(data: unknown, intent: Intent, internalKey: Buffer | null): Plan | null {
  if (internalKey && !isGenuineExecJob(data, internalKey)) return null;
  const plan = (data as Partial<SignedExecJob> | undefined)?.plan;
  if (!plan) return null;
  try {
    return planHash(plan) === intent.plan_hash ? plan : null;
  } catch {
    return null;
  }
}

interface RunDeps {
  recovery: ExecRecovery;
  intents: IntentStore;
  runLog: RunLog;
  logger: Logger;
  clock: Clock;
  timeoutMs: number;
}

/**
 * Runs the recovery of `intent` under a lease the caller holds: every change checks the lease and
 * records `recover_<step>` in the intent; the outcome goes to the run log (`recovered`) and the
 * intent is removed. If recovery itself stops (lease lost, Docker down, timeout), the intent stays,
 * so the next start-up's sweep tries again.
 */
async function runRecovery(
  deps: RunDeps,
  intent: RecoveringIntent,
  opts: RecoverDeps & { check(): Promise<void> },
): Promise<ExecResult> {
  const from = crashStep(intent);
  const started = performance.now();
  deps.logger.warn(
    { op: intent.op, service: intent.service, action: intent.action, step: from },
    'recovering an operation that stopped in the middle (its process died)',
  );
  let result: ExecResult;
  try {
    result = await withTimeout(
      deps.recovery.recover(intent, {
        plan: opts.plan,
        startedAt: opts.startedAt,
        async beforeChange(step) {
          await opts.check();
          const next: RecoveringIntent = {
            ...intent,
            step: `recover_${step}`,
            recovering_from: from,
            at: deps.clock.now().toISOString(),
          };
          await deps.intents.write(next);
        },
      }),
      deps.timeoutMs,
    );
  } catch (err) {
    deps.logger.error({ err, op: intent.op }, 'recovery stopped; the intent is kept for the next start-up');
    result = {
      ok: false,
      code: 'internal',
      message: `recovery after a crash at step ${from} stopped: ${(err as Error).message}; the intent is kept and Helm tries again at its next start-up`,
    };
    await logRecovered(deps, intent, opts.plan, result).catch(() => undefined);
    return result;
  }
  deps.logger.warn(
    { op: intent.op, ok: result.ok, ms: Math.round(performance.now() - started) },
    result.ok ? result.outcome : result.message,
  );
  await logRecovered(deps, intent, opts.plan, result).catch((err) =>
    deps.logger.error({ err, op: intent.op }, 'could not write the recovery to the run log'),
  );
  await deps.intents.done(intent.op);
  return result;
}

async function logRecovered(
  deps: Pick<RunDeps, 'runLog'>,
  intent: Intent,
  plan: Plan | null,
  result: ExecResult,
): Promise<void> {
  await deps.runLog.append({
    event: 'recovered',
    job_id: intent.job_id,
    request_id: plan?.request_id ?? null,
    action: intent.action,
    target: intent.service,
    environment: plan?.environment ?? null,
    approval_id: intent.approval_id,
    code: result.ok ? null : result.code,
    message: `op ${intent.op}: ${result.ok ? result.outcome : result.message}`,
  });
}

/**
 * The hook in run-exec-job.ts: an exec job whose intent is on disk came back after its worker died.
 * It already passed its checks and its `executing` entry is in the run log: it is recovered, under
 * the lease the job holds, never checked and run again.
 */
export async function recoverExecJob(
  deps: RunDeps & {
    job: Pick<Job, 'timestamp'>;
    data: SignedExecJob;
    intent: Intent;
    lease: { check(): Promise<void> };
    /** Pages Sentinel for a release that was rolled back or could not be restored. */
    alert(result: ExecResult): Promise<void>;
  },
): Promise<ExecResult> {
  const result = await runRecovery(deps, deps.intent, {
    plan: planOf(deps.data, deps.intent, null),
    startedAt: Number.isFinite(deps.job.timestamp) ? new Date(deps.job.timestamp) : null,
    check: () => deps.lease.check(),
  });
  await deps.alert(result);
  return result;
}

export interface OrphanSweepDeps {
  /** Null when this Helm makes no Docker changes (then there is nothing to recover with). */
  recovery: ExecRecovery | null;
  intents: IntentStore;
  /** helm.exec, to see whether an intent's job is still alive. */
  execQueue: { getJob(id: string): Promise<Job | undefined> };
  leases: LeaseManager;
  runLog: RunLog;
  alerts?: AlertSender;
  internalKey: Buffer;
  /** The plans' host id ("local"): leases are per host and service. */
  host: string;
  logger: Logger;
  clock: Clock;
  timeoutMs: number;
  /** How often to ask again for a busy service's lease. @defaultValue 250 */
  retryMs?: number;
  /** How long to wait for it before leaving the intent to the next start-up. @defaultValue 300_000 */
  giveUpMs?: number;
}

export interface OrphanSweep {
  /** Resolves with what was recovered once the sweep is over. */
  done: Promise<Array<{ op: string; result: ExecResult }>>;
  stop(): Promise<void>;
}

/** Job states in which an exec job will not come back by itself. */
const ENDED = new Set(['completed', 'failed', 'unknown']);

/**
 * At start-up: intents whose exec job no longer exists or is finished will never come back through
 * BullMQ (Redis lost them, or BullMQ failed the job). Each is recovered under its service's lease
 * and its outcome written to the run log (`recovered`). Intents of jobs still waiting or active are
 * left alone: the job itself comes back to the hook. Runs in the background; `stop` ends it.
 */
export function recoverOrphanedIntents(deps: OrphanSweepDeps): OrphanSweep {
  let stopped = false;
  const retryMs = deps.retryMs ?? 250;
  const giveUpMs = deps.giveUpMs ?? 300_000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());

  async function sweep(): Promise<Array<{ op: string; result: ExecResult }>> {
    const recovered: Array<{ op: string; result: ExecResult }> = [];
    if (!deps.recovery) return recovered;
    let intents: Intent[];
    try {
      intents = await deps.intents.list();
    } catch (err) {
      deps.logger.error({ err }, 'the intents folder cannot be read: no crash recovery at start-up');
      return recovered;
    }
    for (const intent of intents) {
      if (stopped) break;
      try {
        const job = await deps.execQueue.getJob(intent.op);
        const state = job ? await job.getState() : 'unknown';
        if (!ENDED.has(state)) continue;
        const service = `${deps.host}/${intent.service}`;
        const deadline = Date.now() + giveUpMs;
        let lease = await deps.leases.tryAcquire(service, intent.op);
        while (!lease && !stopped && Date.now() < deadline) {
          await sleep(retryMs);
          lease = await deps.leases.tryAcquire(service, intent.op);
        }
        if (!lease) {
          deps.logger.warn(
            { op: intent.op, service },
            'service busy: its orphaned intent waits for the next start-up',
          );
          continue;
        }
        try {
          const plan = planOf(job?.data, intent, deps.internalKey);
          const result = await runRecovery({ ...deps, recovery: deps.recovery }, intent, {
            plan,
            startedAt: job && Number.isFinite(job.timestamp) ? new Date(job.timestamp) : null,
            check: () => lease.check(),
          });
          recovered.push({ op: intent.op, result });
          await alertFailedRelease(deps, intent, plan, result);
        } finally {
          await lease.release();
        }
      } catch (err) {
        deps.logger.error({ err, op: intent.op }, 'recovery of an orphaned intent failed');
      }
    }
    return recovered;
  }

  const done = sweep();
  return {
    done,
    async stop() {
      stopped = true;
      await done.catch(() => undefined);
    },
  };
}

/** As the executor pages for a failed release (CONTRACT.md decision 43), for one the sweep recovered. */
async function alertFailedRelease(
  deps: Pick<OrphanSweepDeps, 'alerts'>,
  intent: Intent,
  plan: Plan | null,
  result: ExecResult,
) {
  if (!deps.alerts || result.ok || (result.code !== 'rolled_back' && result.code !== 'rollback_failed'))
    return;
  const restored = result.code === 'rolled_back';
  await deps.alerts.send({
    severity: restored && plan !== null && plan.environment !== 'production' ? 'warning' : 'critical',
    kind: restored ? 'rolled_back' : 'deploy_failed',
    target: intent.service,
    ...(plan ? { environment: plan.environment } : {}),
    message: `${intent.action} of ${intent.service} was interrupted by a crash${restored ? ' and rolled back' : '; the previous release could not be restored'}: ${result.message}`,
    details: {
      job_id: intent.job_id,
      plan_hash: intent.plan_hash,
      ...(result.data ? { data: result.data } : {}),
    },
    dedup_key: `${restored ? 'rolled_back' : 'deploy_failed'}:${intent.job_id}`,
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no end within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
