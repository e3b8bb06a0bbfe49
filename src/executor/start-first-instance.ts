import type { ContainerCreateOptions } from '../docker/docker-objects.js';
import { renderHealthcheck, ROUTE_LABEL, type RoutedService } from '../proxy/route-labels.js';

/**
 * A new instance of a routed service for a start-first switch (issue 11), as data: the replacement's
 * create options (replacement-options.ts), moved onto the instance's own host port. On the host
 * network the app is told its port (ghost.port.env); on a bridge network the container port is
 * published to it on loopback (ghost.port.container). The healthcheck is rendered for that port, so
 * the health gate probes this instance and never the old one (or the proxy), and the owner's
 * template is kept beside it for the next deploy.
 */

/** The name a new instance runs under while the old one still holds the service's name. */
export function instanceName(name: string, port: number): string {
  return `${name}-i${port}`;
}

export function instanceOptions(
  base: ContainerCreateOptions,
  routed: RoutedService,
  port: number,
  name: string,
): ContainerCreateOptions {
  const labels: Record<string, string> = { ...(base.Labels ?? {}), [ROUTE_LABEL.instancePort]: String(port) };
  if (routed.healthcheck !== null) {
    labels[ROUTE_LABEL.healthcheck] = renderHealthcheck(routed.healthcheck, port);
    labels[ROUTE_LABEL.healthcheckTemplate] = routed.healthcheck;
  } else {
    // No healthcheck of the owner's: the instance counts as healthy once its port accepts connections.
    labels[ROUTE_LABEL.healthcheck] = `tcp://127.0.0.1:${port}`;
  }
  const options: ContainerCreateOptions = { ...base, name, Labels: labels };
  if (routed.instancePort.kind === 'env') {
    const prefix = `${routed.instancePort.name}=`;
    options.Env = [...(base.Env ?? []).filter((e) => !e.startsWith(prefix)), `${prefix}${port}`];
  } else {
    const key = `${routed.instancePort.port}/tcp`;
    options.HostConfig = {
      ...(base.HostConfig ?? {}),
      PortBindings: {
        ...(base.HostConfig?.PortBindings ?? {}),
        [key]: [{ HostIp: '127.0.0.1', HostPort: String(port) }],
      },
    };
  }
  return options;
}
