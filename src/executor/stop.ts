import type { ActionOutcome } from '../actions/action-types.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { announce, type ExecContext } from './exec-context.js';
import { atOperationEdge, inspectTarget } from './operation-prelude.js';
import { nameOf, plural, secondsText } from './service-state.js';
import { STEP } from './steps.js';

/**
 * Stops a service's running containers (graceful: the stop signal, SIGKILL after `timeoutS`) and
 * verifies each is stopped. Containers that are not running are left alone and named in the outcome.
 */
export async function stopService(
  ctx: ExecContext,
  service: ResolvedService,
  timeoutS: number,
): Promise<ActionOutcome> {
  return atOperationEdge(`stop of ${service.name} failed`, () => stop(ctx, service, timeoutS));
}

async function stop(ctx: ExecContext, service: ResolvedService, timeoutS: number): Promise<ActionOutcome> {
  const started = performance.now();
  const inspected = await inspectTarget(ctx, service, 'stop it', `${service.name} has no container to stop`);
  if (!inspected.ok) return inspected.outcome;
  const infos = inspected.infos;

  const stopped: string[] = [];
  const already: string[] = [];
  for (const info of infos) {
    const name = nameOf(info);
    if (!info.State.Running && !info.State.Restarting) {
      already.push(name);
      continue;
    }
    await announce(ctx, STEP.stop, { replica: name, container: info.Id, timeout_s: timeoutS });
    await ctx.docker.stopContainer(info.Id, timeoutS);
    const after = await ctx.docker.inspectContainer(info.Id);
    if (after.State.Running || after.State.Restarting)
      return {
        ok: false,
        code: 'docker_error',
        message: `${name} is still ${after.State.Status} after docker stop (timeout ${timeoutS} s)`,
        data: { stopped },
      };
    stopped.push(name);
  }
  const tail =
    already.length > 0
      ? `; ${already.join(', ')} ${already.length === 1 ? 'was' : 'were'} already stopped`
      : '';
  return {
    ok: true,
    outcome: `stopped ${service.name} (${plural(stopped.length, 'container')}) in ${secondsText(performance.now() - started)}${tail}`,
    data: { stopped, already_stopped: already, ms: Math.round(performance.now() - started) },
  };
}
