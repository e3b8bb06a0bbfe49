import type { ExecResult } from '../../exec-job/exec-job.js';
import { announce, type ExecContext } from '../exec-context.js';
import { waitHealthy } from '../health-gate.js';
import { healthWords, plural } from '../outcome-words.js';
import { stopTimeout } from '../replica-switch.js';
import { STEP } from '../steps.js';
import { nameOf } from '../target-containers.js';
import {
  activeContainersOf,
  afterCrashWords,
  crashStep,
  isRunning,
  type RecoveringIntent,
  startedSince,
} from './interrupted-state.js';

/**
 * Recovery of an interrupted restart: it is completed. Every container must be running and healthy:
 * one that is stopped half-way through its restart is started, one the operation had not reached
 * (running, not started since the operation began) is restarted now, with the plan's timeout (else
 * its own stop timeout); the outcome says which is which.
 */
export async function finishInterruptedRestart(
  ctx: ExecContext,
  intent: RecoveringIntent,
  startedAt: Date | null,
  timeoutS: number | null,
): Promise<ExecResult> {
  const words = afterCrashWords(intent);
  const infos = await activeContainersOf(ctx, intent.service);
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
  const data = {
    recovered: true,
    crashed_at_step: crashStep(intent),
    restarted,
    started,
    restarted_by_recovery: notRestarted,
  };
  for (const info of infos) {
    const name = nameOf(info);
    if (!isRunning(info)) {
      // Stopped half-way through its restart: finish it.
      await announce(ctx, 'start_container', { replica: name, container: info.Id });
      await ctx.docker.startContainer(info.Id);
      started.push(name);
    } else if (startedSince(info, startedAt) === false) {
      // Not reached before the crash: the restart the request asked for, made now (once).
      const timeout = timeoutS ?? stopTimeout(info);
      await announce(ctx, STEP.restart, { replica: name, container: info.Id, timeout_s: timeout });
      await ctx.docker.restartContainer(info.Id, timeout);
      notRestarted.push(name);
    } else restarted.push(name);
    const gate = await waitHealthy(ctx, info.Id, ctx.healthTimeoutMs);
    if (!gate.ok)
      return {
        ok: false,
        code: 'health_check_failed',
        message: ctx.redactor.redact(`recovered ${words}: ${name} ${gate.reason}`),
        data,
      };
    healthy.push(healthWords(gate.detail));
  }
  const all = `${plural(infos.length, 'container')} running and healthy (${healthy[0]})`;
  const how = startedAt ? 'restarted' : 'running';
  return {
    ok: true,
    outcome: `recovered ${words}: ${intent.service} ${how}${started.length > 0 ? ` (${started.join(', ')} started by recovery)` : ''}${notRestarted.length > 0 ? ` (${notRestarted.join(', ')} restarted by recovery: the crash came before)` : ''}; ${all}`,
    data,
  };
}
