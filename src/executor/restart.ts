import type { ActionOutcome } from '../actions/action-types.js';
import { announce } from './exec-context.js';
import { containerAction, type OnContainers } from './operation-prelude.js';
import { waitHealthy } from './health-gate.js';
import { lastLogs } from './last-logs.js';
import { nameOf } from './target-containers.js';
import { healthWords, plural, secondsText } from './outcome-words.js';
import { STEP } from './steps.js';

/**
 * Restarts a service's containers one at a time (graceful: stop signal, SIGKILL after `timeoutS`),
 * each verified healthy afterwards: the health check must pass within ctx.healthTimeoutMs (no
 * stability window: restart does not change what runs). A replica that fails stops the restart
 * there (health_check_failed, with its last log lines); the others are left as they are.
 */
export const restartService = containerAction('restart', restartEach);

async function restartEach(op: OnContainers, timeoutS: number): Promise<ActionOutcome> {
  const { ctx, service, infos, started } = op;
  const details: string[] = [];
  for (const info of infos) {
    const name = nameOf(info);
    await announce(ctx, STEP.restart, { replica: name, container: info.Id, timeout_s: timeoutS });
    await ctx.docker.restartContainer(info.Id, timeoutS);
    const gate = await waitHealthy(ctx, info.Id, ctx.healthTimeoutMs);
    if (!gate.ok) {
      return {
        ok: false,
        code: 'health_check_failed',
        message: ctx.redactor.redact(`restarted ${name}, but ${gate.reason}`),
        data: {
          container: name,
          restarted: details.length + 1,
          last_logs: await lastLogs(ctx, info.Id, name),
        },
      };
    }
    details.push(healthWords(gate.detail));
  }
  const same = details.every((d) => d === details[0]);
  return {
    ok: true,
    outcome: `restarted ${service.name} (${plural(infos.length, 'container')}) in ${secondsText(performance.now() - started)}; healthy: ${same ? details[0] : details.join('; ')}`,
    data: { containers: infos.map(nameOf), ms: Math.round(performance.now() - started) },
  };
}
