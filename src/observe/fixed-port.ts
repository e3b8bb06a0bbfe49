import type { ContainerInspect, ImageInspect } from '../docker/docker-objects.js';
import { parseHealthLabel } from '../health/health-check-spec.js';
import { LABEL } from '../docker/labels.js';

/**
 * Whether a container binds a fixed host port, so that a second replica cannot run beside it
 * (pure). With host networking a second instance cannot bind the same port, and a loopback health
 * check would be answered by the first; with a bridge network, a published host port is the same
 * problem. Scale refuses more than one replica of such a service (not_supported).
 *
 * Host networking: the container listens on the host when its `ghost.healthcheck` label names a
 * port (http(s) or tcp), it sets a PORT environment variable, or it (or its image) exposes a port.
 * A worker (no port, health by Docker HEALTHCHECK or "running") has none of these.
 */
export interface FixedPort {
  fixed: boolean;
  why: string;
}

export function bindsFixedHostPort(info: ContainerInspect, image: ImageInspect | null = null): FixedPort {
  const mode = info.HostConfig.NetworkMode ?? '';
  if (mode !== 'host') {
    const published = Object.entries(info.HostConfig.PortBindings ?? {}).flatMap(([port, bindings]) =>
      ((bindings as Array<{ HostPort?: string }> | null) ?? [])
        .filter((b) => b.HostPort && b.HostPort !== '0')
        .map((b) => `${b.HostPort}->${port}`),
    );
    return published.length > 0
      ? { fixed: true, why: `it publishes host port ${published.join(', ')}` }
      : { fixed: false, why: 'it publishes no fixed host port' };
  }
  const label = info.Config.Labels?.[LABEL.healthcheck];
  if (label) {
    const spec = parseHealthLabel(label);
    if (spec.ok && (spec.spec.kind === 'tcp' || spec.spec.kind === 'http')) {
      const port = spec.spec.kind === 'tcp' ? String(spec.spec.port) : portOfUrl(spec.spec.url);
      return {
        fixed: true,
        why: `it listens on host port ${port} (label ${LABEL.healthcheck}) on the host network`,
      };
    }
  }
  const portEnv = (info.Config.Env ?? []).find((e) => e.startsWith('PORT='));
  if (portEnv)
    return { fixed: true, why: `it listens on host port ${portEnv.slice(5)} (env PORT) on the host network` };
  const exposed = Object.keys({
    ...(image?.Config?.ExposedPorts ?? {}),
    ...(info.Config.ExposedPorts ?? {}),
  });
  if (exposed.length > 0) return { fixed: true, why: `it exposes ${exposed.join(', ')} on the host network` };
  return { fixed: false, why: 'it listens on no port (a worker)' };
}

function portOfUrl(url: string): string {
  const u = new URL(url);
  return u.port || (u.protocol === 'https:' ? '443' : '80');
}
