import { LABEL } from '../docker/labels.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { isKeptContainer } from '../docker/kept-containers.js';
import type { ExecContext } from './exec-context.js';
import { routeFollows } from './route-follows.js';

/**
 * The proxy's route around crash recovery of a deploy or rollback (issue 11, crash safety), as
 * the generic recovery (recovery/recover-interrupted-switch.ts) completes or undoes it:
 *  - before an undo removes what the interrupted operation created, the route is pointed at the
 *    service's running containers it did not create (the old instances, still serving after a
 *    start-first switch), so no request is sent to an instance about to go;
 *  - after recovery, the route is pointed at the service's running containers, whichever release
 *    they are (the old ones restored, or the new ones completed).
 * Each is a no-op for a service that is not routed, or whose route already points there. A proxy
 * that refuses is logged and named in the result; Docker's state is recovery's answer either way.
 */
export async function routeBeforeUndo(ctx: ExecContext, service: string, op: string): Promise<void> {
  try {
    const keep = await runningOf(ctx, service, (labels) => labels[HELM_LABEL.op] !== op);
    if (keep.length > 0) await routeFollows(ctx, service, keep);
  } catch (err) {
    // The undo goes on: the proxy's fallback (the old instances behind the new) still serves.
    ctx.logger.warn({ err, service }, 'recovery: the route could not be pointed at the old instances');
  }
}

export async function routeAfterRecovery<R extends { ok: boolean; message?: string }>(
  ctx: ExecContext,
  service: string,
  result: R,
): Promise<R> {
  try {
    await routeFollows(ctx, service, await runningOf(ctx, service, () => true));
    return result;
  } catch (err) {
    ctx.logger.warn({ err, service }, 'recovery: the route could not be pointed at what runs');
    const note = `the proxy's route of ${service} could not be pointed at what runs: ${(err as Error).message}`;
    return result.ok ? result : { ...result, message: `${result.message ?? ''} (${note})` };
  }
}

async function runningOf(
  ctx: ExecContext,
  service: string,
  keep: (labels: Readonly<Record<string, string>>) => boolean,
): Promise<string[]> {
  return (await ctx.docker.listContainers())
    .filter((c) => c.labels[LABEL.service] === service && c.state === 'running' && !isKeptContainer(c))
    .filter((c) => keep(c.labels))
    .map((c) => c.id);
}
