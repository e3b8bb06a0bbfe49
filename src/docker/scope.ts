import type { Scope } from '../config/config.js';
import type { ContainerSummary, DockerReads } from './docker-ports.js';
import { isKeptContainer } from './kept-containers.js';
import { LABEL } from './labels.js';
import type { ResolvedService } from './target-resolution.js';

/**
 * Whether this Helm manages a container: the monitor watches, and maintenance (auto-restart,
 * prune) touches, only managed containers. A request may still name any container.
 */
export function isManaged(labels: Readonly<Record<string, string>>, scope: Scope): boolean {
  if (scope.allServices && labels[LABEL.service] !== undefined) return true;
  if (scope.labels.some(({ key, value }) => labels[key] === value)) return true;
  const project = labels[LABEL.composeProject];
  return project !== undefined && scope.composeProjects.includes(project);
}

export function describeScope(scope: Scope): string {
  const parts = [
    ...(scope.allServices ? ['every container labelled ghost.service'] : []),
    ...scope.labels.map(({ key, value }) => `containers labelled ${key}=${value}`),
    ...scope.composeProjects.map((p) => `compose project ${p}`),
  ];
  return parts.length > 0 ? parts.join(', ') : 'nothing (no scope configured)';
}

/** The containers this Helm manages, among everything on the engine. */
export async function listManagedContainers(
  docker: Pick<DockerReads, 'listContainers'>,
  scope: Scope,
): Promise<ContainerSummary[]> {
  return (await docker.listContainers()).filter((c) => isManaged(c.labels, scope));
}

/**
 * Everything in scope as services (status and stats with the target `*`, CONTRACT decision 81): the
 * managed containers, kept earlier releases left out, grouped by ghost.service, else the compose
 * service (within its project), else the container's own name; sorted by service, then name.
 */
export function servicesInScope(all: ReadonlyArray<ContainerSummary>, scope: Scope): ResolvedService[] {
  const groups = new Map<string, ResolvedService>();
  for (const c of all) {
    if (isKeptContainer(c) || !isManaged(c.labels, scope)) continue;
    const project = c.labels[LABEL.composeProject] ?? null;
    const [name, via]: [string, ResolvedService['via']] =
      c.labels[LABEL.service] !== undefined
        ? [c.labels[LABEL.service]!, 'ghost.service']
        : c.labels[LABEL.composeService] !== undefined
          ? [c.labels[LABEL.composeService]!, 'compose']
          : [c.name, 'container_name'];
    const key = `${name}\u0000${via === 'ghost.service' ? '' : (project ?? '')}`;
    const group = groups.get(key) ?? { name, via, composeProject: project, containers: [] };
    group.containers.push(c);
    groups.set(key, group);
  }
  return [...groups.values()]
    .map((g) => ({ ...g, containers: [...g.containers].sort((a, b) => a.name.localeCompare(b.name)) }))
    .sort(
      (a, b) =>
        a.name.localeCompare(b.name) || (a.composeProject ?? '').localeCompare(b.composeProject ?? ''),
    );
}
