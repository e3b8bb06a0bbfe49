import type { ExecResult } from '../../exec-job/exec-job.js';
import { announce, DEFAULT_STOP_TIMEOUT_S, type ExecContext } from '../exec-context.js';
import { plural } from '../outcome-words.js';
import { nameOf } from '../target-containers.js';
import {
  activeContainersOf,
  afterCrashWords,
  crashStep,
  isRunning,
  type RecoveringIntent,
} from './interrupted-state.js';

/**
 * Recovery of an interrupted stop: every container must be stopped; one still running is stopped
 * (finishing the change), with the plan's stop timeout when the plan is known.
 */
export async function finishInterruptedStop(
  ctx: ExecContext,
  intent: RecoveringIntent,
  timeoutS: number | null,
): Promise<ExecResult> {
  const words = afterCrashWords(intent);
  const infos = await activeContainersOf(ctx, intent.service);
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
