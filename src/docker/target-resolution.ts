import type { ContainerSummary } from './docker-ports.js';
import { isKeptContainer } from './kept-containers.js';
import { LABEL } from './labels.js';

/**
 * Which containers a request's `target` names, decided on a container list (pure):
 * the containers labelled ghost.service=<target>; else the compose service of that name; else the
 * container named exactly <target>. Replicas of one service are one target; the same name in two
 * compose projects is ambiguous, and Helm refuses to guess.
 */
export type TargetResolution =
  | { ok: true; service: ResolvedService }
  | { ok: false; code: 'unknown_target' | 'target_ambiguous'; message: string; candidates: string[] };

export interface ResolvedService {
  name: string;
  via: 'ghost.service' | 'compose' | 'container_name';
  composeProject: string | null;
  /** Sorted by name, so replicas come back in a stable order. */
  containers: ContainerSummary[];
}

/** The containers that make up the running release (kept earlier releases left out). */
export function activeContainers(service: ResolvedService): ContainerSummary[] {
  return service.containers.filter((c) => !isKeptContainer(c));
}

export function resolveTarget(target: string, all: ReadonlyArray<ContainerSummary>): TargetResolution {
  // Earlier releases Helm keeps (stopped, renamed) still carry the service's labels: not part of it.
  const containers = all.filter((c) => !isKeptContainer(c));
  const byLabel = containers.filter((c) => c.labels[LABEL.service] === target);
  if (byLabel.length > 0) return fromGroup(target, 'ghost.service', byLabel);

  const byCompose = containers.filter((c) => c.labels[LABEL.composeService] === target);
  if (byCompose.length > 0) return fromGroup(target, 'compose', byCompose);

  const byName = containers.filter((c) => c.name === target);
  if (byName.length === 1) {
    return {
      ok: true,
      service: { name: target, via: 'container_name', composeProject: null, containers: byName },
    };
  }
  return {
    ok: false,
    code: 'unknown_target',
    message: `no container is labelled ghost.service=${target}, is a compose service named ${target}, or is named ${target}`,
    candidates: [],
  };
}

function fromGroup(
  target: string,
  via: ResolvedService['via'],
  matches: ContainerSummary[],
): TargetResolution {
  const projects = [...new Set(matches.map((c) => c.labels[LABEL.composeProject] ?? ''))].sort();
  if (projects.length > 1) {
    const candidates = projects.map((p) =>
      p ? `${target} in compose project ${p}` : `${target} outside any compose project`,
    );
    return {
      ok: false,
      code: 'target_ambiguous',
      message: `"${target}" names ${projects.length} different services: ${candidates.join('; ')}`,
      candidates,
    };
  }
  const sorted = [...matches].sort((a, b) => a.name.localeCompare(b.name));
  return {
    ok: true,
    service: { name: target, via, composeProject: projects[0] || null, containers: sorted },
  };
}
