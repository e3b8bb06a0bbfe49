import type { ActionOutcome } from '../actions/action-types.js';
import { announce } from './exec-context.js';
import { containerAction, type OnContainers } from './operation-prelude.js';
import { nameOf } from './target-containers.js';
import { plural, secondsText } from './outcome-words.js';
import { STEP } from './steps.js';

/**
 * Stops a service's running containers (graceful: the stop signal, SIGKILL after `timeoutS`) and
 * verifies each is stopped. Containers that are not running are left alone and named in the outcome.
 */
export const stopService = containerAction('stop', stopEach);

async function stopEach(op: OnContainers, timeoutS: number): Promise<ActionOutcome> {
  const { ctx, service, infos, started } = op;
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
