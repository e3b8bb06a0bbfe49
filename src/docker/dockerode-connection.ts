import type Dockerode from 'dockerode';
import type { ContainerSummary } from './docker-ports.js';
import { DockerNotFoundError, DockerOperationError, DockerUnavailableError } from './docker-errors.js';

/**
 * What every dockerode adapter shares: how Helm reaches the engine (DOCKER_HOST) and how dockerode's
 * errors become the ports' errors (docker-errors.ts).
 */

/** dockerode's convention for DOCKER_HOST: unix:///path, tcp://host:port, or a bare socket path. */
export function dockerOptions(dockerHost: string | undefined): Dockerode.DockerOptions {
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('/')) return { socketPath: dockerHost };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return {
    host: url.hostname,
    port: Number(url.port),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  };
}

export async function guard<T>(fn: () => Promise<T>, what?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 && what) throw new DockerNotFoundError(what);
    if (status !== undefined) throw err;
    throw new DockerUnavailableError(err);
  }
}

/** Like guard(), for mutations: 404 is DockerNotFoundError, other statuses DockerOperationError. */
export async function guardOp<T>(fn: () => Promise<T>, what: string, okStatuses: number[] = []): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && okStatuses.includes(status)) return undefined as T;
    if (status === 404) throw new DockerNotFoundError(what.replace(/^\w+ /, ''));
    if (status !== undefined) throw new DockerOperationError(what, status, dockerMessage(err));
    throw new DockerUnavailableError(err);
  }
}

export function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string } | null; reason?: string; message?: string };
  if (e.json?.message) return e.json.message;
  // dockerode: "(HTTP code 500) server error - <the engine's message>"
  const detail = e.message?.replace(/^\(HTTP code [0-9]+\) [^-]*- /, '').trim();
  return detail || e.reason || String(err);
}

export function summaryOf(c: Dockerode.ContainerInfo): ContainerSummary {
  return {
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    imageId: c.ImageID,
    labels: c.Labels ?? {},
    state: c.State,
    status: c.Status,
    createdAt: c.Created,
  };
}
