import type { Plan } from '../../contracts/index.js';
import type { ExecResult } from '../../exec-job/exec-job.js';
import type { Intent } from '../../intents/intent-store.js';
import { type ExecContext, rethrowAbort } from '../exec-context.js';
import { errorOutcome } from '../operation-prelude.js';
import { finishInterruptedRestart } from './finish-interrupted-restart.js';
import { finishInterruptedStop } from './finish-interrupted-stop.js';
import { type NextAfterCrash, nextAfterCrashAt } from './after-crash-decision.js';
import { assessInterruptedOperation } from './assess-interrupted-operation.js';
import { finishInterruptedRemove } from './finish-interrupted-remove.js';
import { finishInterruptedScale } from './finish-interrupted-scale.js';
import { afterCrashWords, crashStep, planOfIntent } from './interrupted-state.js';
import { pruneHost } from '../prune.js';
import { recoverSwitch } from './recover-interrupted-switch.js';
import { withSwitchReleases } from './set-env-releases.js';

/**
 * Crash recovery of the executors (issue 4, "Write-ahead intent"). An intent file on disk
 * (`<memoryDir>/intents/<op>.json`) means an operation began its change and has not ended. That is
 * found in two places:
 *  - an exec job that comes back after its worker died (BullMQ's stalled check): run-exec-job.ts
 *    hands it to `recoverExecJob` (recover-exec-job.ts) instead of checking and running it again;
 *  - the start-up sweep `recoverOrphanedIntents` (orphan-sweep.ts), for intents whose exec job is
 *    gone or finished.
 * Both run it under a lease through run-recovery.ts. Either way `recoverOperation` (here)
 * reconciles from what Docker shows, never from what it assumes:
 *  - deploy / rollback (recover-interrupted-switch.ts): the new release is running → its health
 *    gate runs again (health check and stability window), Docker must show the service's identity
 *    on it (the operations' own check, verify-release-identity.ts) and, passing, it is recorded as
 *    executed; anything else goes back to the release that ran before (for production: only the
 *    release the signed plan names). Nothing of the new release is created again: the same op is
 *    never applied twice.
 *  - restart (finish-interrupted-restart.ts): every container must be running and healthy (one
 *    that is stopped is started); the outcome says which were restarted after the operation began.
 *  - stop (finish-interrupted-stop.ts): every container must be stopped (one still running is
 *    stopped: finishing the change).
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
  // Stopped before its first change: a job that comes back resumes (recover-exec-job.ts); here
  // (its job is gone, or its plan is not the one that began) nothing is run without its request.
  if (nextAfterCrashAt(intent.step)) return notStarted(intent);
  try {
    switch (intent.action) {
      case 'deploy':
      case 'rollback':
        return await recoverSwitch(ctx, { intent, plan, startedAt: deps.startedAt });
      case 'set_env':
        return await recoverSwitch(ctx, {
          intent: await withSwitchReleases(ctx, intent, deps.startedAt),
          plan: planOfIntent(intent, deps.plan),
          startedAt: deps.startedAt,
        });
      case 'restart':
        return await finishInterruptedRestart(
          ctx,
          intent,
          deps.startedAt,
          plan?.action === 'restart' ? plan.desired.timeout_s : null,
        );
      case 'stop':
        return await finishInterruptedStop(
          ctx,
          intent,
          plan?.action === 'stop' ? plan.desired.timeout_s : null,
        );
      case 'scale':
      case 'remove':
      case 'prune':
        return await finishMaintenance(ctx, intent, deps);
      default:
        return {
          ok: false,
          code: 'internal',
          // Every action that changes something has a recovery above: reaching this is a bug.
          message: `Helm stopped during ${intent.action} of ${intent.service} (step ${crashStep(intent)}) and has no recovery for ${intent.action} (a bug): look at ${intent.service} and send the request again if needed`,
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

/** scale and remove are completed toward their plan (the job's, else the intent's own). */
async function finishMaintenance(ctx: ExecContext, intent: Intent, deps: RecoverDeps): Promise<ExecResult> {
  const plan = planOfIntent(intent, deps.plan);
  if (plan?.action === 'scale') return finishInterruptedScale(ctx, intent, plan, deps.startedAt);
  if (plan?.action === 'remove') return finishInterruptedRemove(ctx, intent, plan);
  if (plan?.action === 'prune') {
    // Exactly the plan's items again: one the crashed run deleted is skipped as gone (prune.ts).
    const rerun = await pruneHost(ctx, plan.host, plan.desired);
    const words = `recovered ${afterCrashWords(intent)}: the prune was completed`;
    return rerun.ok
      ? { ...rerun, outcome: `${words}: ${rerun.outcome}` }
      : { ...rerun, message: `${words} but ${rerun.message}` };
  }
  return noPlan(intent);
}

function notStarted(intent: Intent): ExecResult {
  return {
    ok: false,
    code: 'unavailable',
    message: `recovered after a crash at step ${intent.step}: Helm had not changed anything yet; the ${intent.action} of ${intent.service} was not made and is not retried without its request: send the request again`,
    data: { recovered: true, crashed_at_step: intent.step },
  };
}

/** An intent without its plan (written by an older Helm, and its job is gone): nothing to finish it by. */
function noPlan(intent: Intent): ExecResult {
  const step = crashStep(intent);
  return {
    ok: false,
    code: 'unavailable',
    message: `Helm stopped during ${intent.action} of ${intent.service} (step ${step}) and neither its job nor its intent holds the plan to finish it by: look at ${intent.service} and send the request again if needed`,
    data: { recovered: false, crashed_at_step: step },
  };
}

export interface ExecRecovery {
  /** What the interrupted step left: resume the request, or reconcile (assess-interrupted-operation.ts). */
  assess(intent: Intent, deps: RecoverDeps): Promise<NextAfterCrash>;
  recover(
    intent: Intent,
    opts: RecoverDeps & { beforeChange: ExecContext['beforeChange'] },
  ): Promise<ExecResult>;
}

/** The recovery an executor runs, on the same Docker surface and settings as its operations. */
export function makeRecovery(base: Omit<ExecContext, 'beforeChange'>): ExecRecovery {
  return {
    assess: (intent, deps) =>
      assessInterruptedOperation({ ...base, beforeChange: refuseChange }, intent, deps),
    recover: (intent, { beforeChange, ...deps }) => recoverOperation({ ...base, beforeChange }, intent, deps),
  };
}

/** Assessing changes nothing: a change announced there is a bug. */
async function refuseChange(step: string): Promise<never> {
  throw new Error(`internal: assessing an interrupted operation announced a change (${step})`);
}
