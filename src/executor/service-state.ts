import type { ActionOutcome } from '../actions/action-types.js';
import {
  ContainerCreateRefusedError,
  DockerNotFoundError,
  DockerOperationError,
  DockerPullError,
  DockerUnavailableError,
} from '../docker/docker-errors.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { LABEL } from '../docker/labels.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { ExecContext } from './exec-context.js';
import { activeContainers } from '../docker/target-resolution.js';

/** The service's active containers (kept releases left out), inspected, by name. */
export async function inspectActive(
  ctx: Pick<ExecContext, 'docker'>,
  service: ResolvedService,
): Promise<ContainerInspect[]> {
  const infos = await Promise.all(activeContainers(service).map((c) => ctx.docker.inspectContainer(c.id)));
  return infos.sort((a, b) => nameOf(a).localeCompare(nameOf(b)));
}

export function nameOf(info: ContainerInspect): string {
  return info.Name.replace(/^\//, '');
}

/** Roles Helm never changes: itself and the bus (the gate refuses first; this is the executor's own check). */
export function protectedReason(infos: readonly ContainerInspect[]): string | null {
  for (const info of infos) {
    const role = info.Config.Labels?.[LABEL.role];
    if (role === 'helm' || role === 'bus') return `${nameOf(info)} is labelled ${LABEL.role}=${role}`;
  }
  return null;
}

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

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** "1.2 s" */
export function secondsText(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** "HTTP 200 in 3 ms" → "HTTP 200": a one-line outcome does not need the probe's own time. */
export function healthWords(detail: string): string {
  return detail.replace(/ in [0-9]+ ms$/, '');
}
