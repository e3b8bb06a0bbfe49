import type { Scope } from '../config/config.js';
import type { ContainerSummary, DockerReads } from './docker-ports.js';
import { LABEL } from './labels.js';

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
