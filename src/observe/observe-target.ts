import { existsSync } from 'node:fs';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { LABEL, PROTECTED_ROLES } from '../docker/labels.js';
import type { Scope } from '../config/config.js';
import { LOCAL_ALIAS } from '../config/host-id.js';
import { listManagedContainers } from '../docker/scope.js';
import { type ResolvedService, resolveTarget } from '../docker/target-resolution.js';
import type { Environment } from '../contracts/index.js';
import { type ClassificationRule, environmentOf, strongestEnvironment } from '../policy/environment-of.js';

/**
 * What the gate and the executor look at before a change: the resolved service, its containers as
 * Docker shows them now, and its real environment (from the containers, never from the request).
 * The executor looks again just before acting, so a plan approved on a different state is stale.
 */
export type Observation =
  | {
      ok: true;
      service: ResolvedService;
      containers: ContainerInspect[];
      environment: Environment;
      protectedBy: string | null;
    }
  | {
      ok: false;
      code: 'unknown_target' | 'target_ambiguous' | 'docker_error';
      message: string;
      data?: Record<string, unknown>;
    };

/** Roles Helm never changes: itself and the bus it depends on. */

export async function observeTarget(
  docker: DockerReads,
  target: string,
  classification: readonly ClassificationRule[],
  /** For a first deploy: the environment the owner's services file gives a service with no container yet. */
  definedEnvironment?: (service: string) => Environment | null,
): Promise<Observation> {
  let resolved: ReturnType<typeof resolveTarget>;
  try {
    resolved = resolveTarget(target, await docker.listContainers());
  } catch (err) {
    return { ok: false, code: 'docker_error', message: (err as Error).message };
  }
  const defined =
    !resolved.ok && resolved.code === 'unknown_target' ? (definedEnvironment?.(target) ?? null) : null;
  if (defined) {
    return {
      ok: true,
      service: { name: target, via: 'ghost.service', composeProject: null, containers: [] },
      containers: [],
      environment: defined,
      protectedBy: null,
    };
  }
  if (!resolved.ok) {
    return {
      ok: false,
      code: resolved.code,
      message: resolved.message,
      ...(resolved.candidates.length > 0 ? { data: { candidates: resolved.candidates } } : {}),
    };
  }
  const service = resolved.service;
  try {
    const containers = await Promise.all(service.containers.map((c) => docker.inspectContainer(c.id)));
    const envs = await Promise.all(containers.map((c) => environmentOfContainer(docker, c, classification)));
    return {
      ok: true,
      service,
      containers: containers.sort((a, b) => (a.Id < b.Id ? -1 : a.Id > b.Id ? 1 : 0)),
      // Replicas should agree; if they do not, the strongest one decides (default is no).
      environment: strongestEnvironment(envs),
      protectedBy: protectedBy(containers),
    };
  } catch (err) {
    return { ok: false, code: 'docker_error', message: (err as Error).message };
  }
}

/** A container's environment; an image that cannot be inspected may have set any label: all count as inherited. */
async function environmentOfContainer(
  docker: Pick<DockerReads, 'inspectImage'>,
  c: ContainerInspect,
  classification: readonly ClassificationRule[],
): Promise<Environment> {
  const image = await docker.inspectImage(c.Image).catch(() => null);
  return environmentOf({
    containerName: c.Name,
    containerLabels: c.Config.Labels,
    imageLabels: image ? (image.Config?.Labels ?? null) : 'unknown',
    classification,
  }).environment;
}

function protectedBy(containers: ContainerInspect[]): string | null {
  for (const c of containers) {
    const role = c.Config.Labels?.[LABEL.role];
    if (role && PROTECTED_ROLES.has(role))
      return `${c.Name.replace(/^\//, '')} is labelled ${LABEL.role}=${role}`;
    if (isOwnContainer(c)) return `${c.Name.replace(/^\//, '')} is the container Helm runs in`;
  }
  return null;
}

/** In a container, Docker sets the hostname to the container's short id. */
function isOwnContainer(c: ContainerInspect): boolean {
  const host = process.env.HOSTNAME;
  return existsSync('/.dockerenv') && !!host && host.length >= 12 && c.Id.startsWith(host);
}

export const ENVIRONMENT_RANK: Readonly<Record<Environment, number>> = { dev: 0, staging: 1, production: 2 };

/**
 * A host-wide action (prune) targets the engine itself: this host's id (`ownHost`, HELM_HOST_ID), or
 * "local" for the host the request reached (contract 1.5, decision 91). Its environment is the
 * strongest among the managed containers on that host (none: production); it has no containers.
 */
export async function observeHost(
  docker: DockerReads,
  hostId: string,
  ownHost: string,
  scope: Scope,
  classification: readonly ClassificationRule[],
): Promise<Observation> {
  if (hostId !== ownHost && hostId !== LOCAL_ALIAS) {
    return {
      ok: false,
      code: 'unknown_target',
      message: `"${hostId}" is not the Docker host this Helm runs against ("${ownHost}", or "${LOCAL_ALIAS}")`,
    };
  }
  try {
    const managed = await listManagedContainers(docker, scope);
    const envs = await Promise.all(
      managed.map(async (c) =>
        environmentOfContainer(docker, await docker.inspectContainer(c.id), classification),
      ),
    );
    return {
      ok: true,
      service: { name: ownHost, via: 'ghost.service', composeProject: null, containers: [] },
      containers: [],
      environment: strongestEnvironment(envs),
      protectedBy: null,
    };
  } catch (err) {
    return { ok: false, code: 'docker_error', message: (err as Error).message };
  }
}
