import type { Clock } from '../../base/clock.js';
import { planHash } from '../../approval/index.js';
import type { Plan } from '../../contracts/index.js';
import { type ExecResult, isGenuineExecJob, type SignedExecJob } from '../../exec-job/exec-job.js';
import type { Intent, IntentStore } from '../../intents/intent-store.js';
import type { Logger } from '../../log/logger.js';
import type { RunLog } from '../../runlog/index.js';
import { crashStep, type RecoveringIntent } from './interrupted-state.js';
import type { ExecRecovery, RecoverDeps } from './recover-interrupted-operation.js';

/**
 * Running one recovery, whoever found the interrupted operation (recover-exec-job.ts: its job came
 * back; orphan-sweep.ts: at start-up): under the caller's lease, with a time limit, its outcome
 * written to the run log (`recovered`) and the intent removed once it ended.
 */

/** The intent of operation `op`, or null. An unreadable intent folder reads as none (logged by the caller). */
export async function findIntent(intents: Pick<IntentStore, 'list'>, op: string): Promise<Intent | null> {
  return (await intents.list()).find((i) => i.op === op) ?? null;
}

/** The plan of an exec job, when the job is genuine and its plan is the one the intent ran. */
export function planOf(data: unknown, intent: Intent, internalKey: Buffer | null): Plan | null {
  if (internalKey && !isGenuineExecJob(data, internalKey)) return null;
  const plan = (data as Partial<SignedExecJob> | undefined)?.plan;
  if (!plan) return null;
  try {
    return planHash(plan) === intent.plan_hash ? plan : null;
  } catch {
    return null;
  }
}

export interface RunDeps {
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
export async function runRecovery(
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
        async beforeChange(step, detail) {
          await opts.check();
          const next: RecoveringIntent = {
            ...intent,
            step: `recover_${step}`,
            ...(detail ? { detail } : {}),
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
    // Not a bug: Docker, the lease or the time limit stopped it, and the next start-up tries again.
    result = {
      ok: false,
      code: 'unavailable',
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

/** The `recovered` run-log entry: one per recovery, whatever its outcome. */
export async function logRecovered(
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

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no end within ${Math.round(ms / 1000)} s`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
