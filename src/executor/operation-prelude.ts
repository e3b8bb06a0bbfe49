import { randomUUID } from 'node:crypto';
import type { ActionOutcome } from '../actions/action-types.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { type ExecContext, type ExecMeta, rethrowAbort } from './exec-context.js';
import {
  ContainerCreateRefusedError,
  DockerNotFoundError,
  DockerOperationError,
  DockerPullError,
  DockerUnavailableError,
} from '../docker/docker-errors.js';
import { inspectActive, protectedReason } from './target-containers.js';

/**
 * What every operation does before and around its own steps, written once: the edge that turns an
 * escaped error into a failed outcome (an aborted change rethrown as the orchestrator's own), the
 * operation id, and the first look at the target (its containers, protected roles).
 */

/** How every refusal before the first change ends: the owner reads that nothing moved. */
export const NOTHING_CHANGED = 'nothing was changed';

/** An error that escaped an operation, as a failed outcome. */
export function errorOutcome(err: unknown, what: string): ActionOutcome {
  const message = (err as Error)?.message ?? String(err);
  if (err instanceof ContainerCreateRefusedError)
    return { ok: false, code: 'not_supported', message: `${what}: ${message}` };
  if (
    err instanceof DockerUnavailableError ||
    err instanceof DockerOperationError ||
    err instanceof DockerNotFoundError ||
    err instanceof DockerPullError
  )
    return { ok: false, code: 'docker_error', message: `${what}: ${message}` };
  return { ok: false, code: 'internal', message: `${what}: ${message}` };
}

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

/** One running operation: what it acts on, for whom, and since when (its outcome names its duration). */
export interface Operation<C extends ExecContext = ExecContext> {
  ctx: C;
  service: ResolvedService;
  name: string;
  meta: ExecMeta & { opId: string };
  /** performance.now() when it began. */
  started: number;
}

/** An operation run inside its edge (atOperationEdge), with its op id and its start time. */
export function runOperation<C extends ExecContext, T extends ActionOutcome>(
  what: string,
  ctx: C,
  service: ResolvedService,
  meta: ExecMeta,
  run: (op: Operation<C>) => Promise<T>,
  known?: (err: unknown) => ActionOutcome | null,
): Promise<T | ActionOutcome> {
  return atOperationEdge(
    what,
    () => run({ ctx, service, name: service.name, meta: withOpId(meta), started: performance.now() }),
    known,
  );
}

/** An operation on a service's existing containers, past its prelude. */
export interface OnContainers {
  ctx: ExecContext;
  service: ResolvedService;
  /** Its active containers, inspected, by name. */
  infos: ContainerInspect[];
  /** performance.now() when it began. */
  started: number;
}

/**
 * An action that goes through a service's containers with a stop timeout (restart, stop): its
 * prelude is worded from its verb, and `run` does the rest.
 */
export function containerAction(
  verb: string,
  run: (op: OnContainers, timeoutS: number) => Promise<ActionOutcome>,
): (ctx: ExecContext, service: ResolvedService, timeoutS: number) => Promise<ActionOutcome> {
  return (ctx, service, timeoutS) =>
    onContainers(
      ctx,
      service,
      {
        what: `${verb} of ${service.name} failed`,
        refusing: `${verb} it`,
        ifNone: `${service.name} has no container to ${verb}`,
      },
      (op) => run(op, timeoutS),
    );
}

/** The prelude of an operation on a service's existing containers (restart, stop, scale, set_env, remove). */
export interface ContainersPrelude {
  /** The failed outcome's words when an error escapes ("restart of web failed"). */
  what: string;
  /** "restart it": the refusal of a protected role. */
  refusing: string;
  /** The refusal of a service with no container. */
  ifNone: string;
  /** The refusal of a compose service, when this operation does not change one. */
  notForCompose?: string;
}

/**
 * Runs `run` on the service's active containers, inspected, inside the operation's edge, once the
 * prelude let it: compose services (when refused), no container, protected roles.
 */
export function onContainers<T extends ActionOutcome>(
  ctx: ExecContext,
  service: ResolvedService,
  p: ContainersPrelude,
  run: (op: OnContainers) => Promise<T>,
): Promise<T | ActionOutcome> {
  return atOperationEdge(p.what, async (): Promise<T | ActionOutcome> => {
    const started = performance.now();
    if (service.composeProject && p.notForCompose !== undefined)
      return { ok: false, code: 'unavailable', message: p.notForCompose };
    const inspected = await inspectTarget(ctx, service, p.refusing, p.ifNone);
    if (!inspected.ok) return inspected.outcome;
    return run({ ctx, service, infos: inspected.infos, started });
  });
}
