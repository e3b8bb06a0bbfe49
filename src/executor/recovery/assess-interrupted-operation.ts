import type { ExecContext } from '../exec-context.js';
import type { RecoveringIntent } from './interrupted-state.js';
import { withSwitchReleases } from './set-env-releases.js';
import { isActiveName, isRunning, stoppedSince } from './interrupted-state.js';
import {
  type NextAfterCrash,
  nextAfterCrashAt,
  nextAfterSwitchCrash,
  type SwitchCrashFacts,
} from './after-crash-decision.js';
import { type InterruptedSwitch, readInterruptedSwitch } from './read-interrupted-switch.js';
import type { Plan } from '../../contracts/index.js';
import { nameOf } from '../target-containers.js';

/**
 * Reads what the interrupted step left (from Docker, never assumed) and decides, with
 * after-crash-decision.ts, whether the request resumes or the operation is reconciled. The intent's
 * own step is used (a `recover_<step>` means a recovery had begun changing things: reconcile).
 */
export async function assessInterruptedOperation(
  ctx: ExecContext,
  intent: RecoveringIntent,
  deps: { plan: Plan | null; startedAt: Date | null },
): Promise<NextAfterCrash> {
  const atStart = nextAfterCrashAt(intent.step);
  if (atStart) return atStart;
  if (!SWITCHES.has(intent.action))
    return { next: 'reconcile', why: `${intent.action} reconciles from what Docker shows` };
  const plan = deps.plan && deps.plan.action === intent.action ? deps.plan : null;
  const sw = await readInterruptedSwitch(ctx, {
    intent: await withSwitchReleases(ctx, intent, deps.startedAt),
    plan,
    startedAt: deps.startedAt,
  });
  return nextAfterSwitchCrash(switchCrashFacts(sw, intent.step));
}

/** The operations that switch a release: deploy, rollback, set_env (the deploy machinery, same image). */
const SWITCHES = new Set(['deploy', 'rollback', 'set_env']);

/** The facts of an interrupted switch that the decision reads. */
export function switchCrashFacts(sw: InterruptedSwitch, step: string): SwitchCrashFacts {
  return {
    step,
    created: sw.created.length,
    replaced: sw.oldIds.map((id) => {
      const c = sw.byId.get(id);
      return {
        name: sw.oldName(id),
        present: c !== undefined,
        activeName: c !== undefined && isActiveName(c) && nameOf(c) === sw.oldName(id),
        stoppedByOp: c !== undefined && stoppedSince(c, sw.startedAt),
      };
    }),
    reusedTouched: sw.reused.filter((c) => isRunning(c) || isActiveName(c)).length,
  };
}
