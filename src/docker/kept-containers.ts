import type { ContainerSummary } from './docker-ports.js';

/**
 * A replaced container is kept, stopped, under `<name>-helm-<release>` so that a rollback can start
 * it again. It still carries the service's labels (Docker cannot change a container's labels), so
 * whoever lists a service's containers must leave the kept ones out: `activeContainers`.
 */
const KEPT_SUFFIX = /-helm-(r[0-9]+)$/;

export function keptName(name: string, release: string): string {
  return `${name}-helm-${release.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
}

/** The release a kept container belongs to, from its name; null for an active container. */
export function keptRelease(name: string): string | null {
  return KEPT_SUFFIX.exec(name)?.[1] ?? null;
}

export function isKeptContainer(c: Pick<ContainerSummary, 'name'>): boolean {
  return keptRelease(c.name) !== null;
}
