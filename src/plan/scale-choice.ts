// Which containers a scale keeps and which it removes (pure). The plan names the ones that go
// (desired.remove_containers), so Warden signs exactly that choice, and the executor, which makes the
// same choice from what Docker shows when it runs, finds the plan stale if the choice came out
// different (a container stopped or crashed meanwhile).
import type { ContainerInspect } from '../docker/docker-objects.js';

const nameOf = (info: ContainerInspect) => info.Name.replace(/^\//, '');

/** Running, or about to be (Docker restarting it): it counts as a replica. */
export function isUp(info: ContainerInspect): boolean {
  return info.State.Running || info.State.Restarting;
}

function created(info: ContainerInspect): number {
  return Date.parse(info.Created) || 0;
}

/** Oldest first (then by name): replica 1 is the oldest. */
function byAge(a: ContainerInspect, b: ContainerInspect): number {
  return created(a) - created(b) || nameOf(a).localeCompare(nameOf(b));
}

export interface ScalePlanOfContainers {
  /** The containers that stay, replica 1 first. */
  keep: ContainerInspect[];
  /** Containers that stay but are stopped now: started again. */
  start: ContainerInspect[];
  /** Removed, newest first. */
  remove: ContainerInspect[];
  /** How many copies of replica 1 to create. */
  create: number;
  /** replicas 0: the container kept stopped as the template. */
  template: ContainerInspect | null;
}

/** What a scale to `replicas` does with these containers (pure). */
export function scaleChanges(infos: readonly ContainerInspect[], replicas: number): ScalePlanOfContainers {
  const order = [...infos.filter(isUp).sort(byAge), ...infos.filter((i) => !isUp(i)).sort(byAge)];
  const keepCount = Math.max(replicas, order.length > 0 ? 1 : 0);
  const keep = order.slice(0, Math.min(keepCount, order.length));
  const remove = order.slice(keep.length).sort((a, b) => byAge(b, a));
  if (replicas === 0) return { keep, start: [], remove, create: 0, template: keep[0] ?? null };
  return {
    keep,
    start: keep.filter((i) => !isUp(i)),
    remove,
    create: Math.max(0, replicas - keep.length),
    template: null,
  };
}
