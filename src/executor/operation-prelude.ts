import { randomUUID } from 'node:crypto';
import type { ActionOutcome } from '../actions/action-types.js';
import type { ContainerInspect } from '../docker/docker-client.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { type ExecContext, type ExecMeta, rethrowAbort } from './exec-context.js';
import { errorOutcome, inspectActive, protectedReason } from './service-state.js';

/**
 * What every operation does before and around its own steps, written once: the edge that turns an
 * escaped error into a failed outcome (an aborted change rethrown as the orchestrator's own), the
 * operation id, and the first look at the target (its containers, protected roles).
 */

/** How every refusal before the first change ends: the owner reads that nothing moved. */
export const NOTHING_CHANGED = 'nothing was changed';

/**
 * The edge of every operation. A throw from ctx.beforeChange (the lease was lost) goes back to the
 * orchestrator unchanged; any other error that escapes becomes a failed outcome naming `what`
 * ("restart of web failed: …"), or the one `known` makes of it.
 */
export async function atOperationEdge<T extends ActionOutcome>(
  what: string,
  run: () => Promise<T>,
  known?: (err: unknown) => ActionOutcome | null,
): Promise<T | ActionOutcome> {
  try {
    return await run();
  } catch (err) {
    rethrowAbort(err);
    return known?.(err) ?? errorOutcome(err, what);
  }
}

/** The orchestrator's operation id, or a fresh one when an operation is called on its own (tests). */
export function withOpId(meta: ExecMeta): ExecMeta & { opId: string } {
  return { ...meta, opId: meta.opId ?? randomUUID() };
}

export type InspectedTarget = { ok: true; infos: ContainerInspect[] } | { ok: false; outcome: ActionOutcome };

/**
 * The service's active containers, inspected, or the refusal before any change: with `ifNone` set, a
 * service without a container is unknown_target with that message; a protected role (Helm itself,
 * the bus) is protected_target ("…; Helm does not <refusing>", say "restart it").
 */
export async function inspectTarget(
  ctx: Pick<ExecContext, 'docker'>,
  service: ResolvedService,
  refusing: string,
  ifNone?: string,
): Promise<InspectedTarget> {
  const infos = await inspectActive(ctx, service);
  if (infos.length === 0 && ifNone !== undefined)
    return { ok: false, outcome: { ok: false, code: 'unknown_target', message: ifNone } };
  const refused = protectedReason(infos);
  if (refused)
    return {
      ok: false,
      outcome: { ok: false, code: 'protected_target', message: `${refused}; Helm does not ${refusing}` },
    };
  return { ok: true, infos };
}
