import type { ContainerInspect } from '../docker/docker-objects.js';
import { LABEL, PROTECTED_ROLES } from '../docker/labels.js';
import { activeContainers, type ResolvedService } from '../docker/target-resolution.js';
import type { ExecContext } from './exec-context.js';

/** A service's containers as the operations see them: inspected, named, and whether Helm may touch them. */

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

/** Roles Helm never changes (docker/labels.ts PROTECTED_ROLES: itself, the bus, the front proxy; the gate refuses first, this is the executor's own check). */
export function protectedReason(infos: readonly ContainerInspect[]): string | null {
  for (const info of infos) {
    const role = info.Config.Labels?.[LABEL.role];
    if (role !== undefined && PROTECTED_ROLES.has(role))
      return `${nameOf(info)} is labelled ${LABEL.role}=${role}`;
  }
  return null;
}
