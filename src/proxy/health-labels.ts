import type { ContainerInspect } from '../docker/docker-objects.js';
import { instancePortOf } from './route-reconcile.js';
import { PORT_PLACEHOLDER, parseRouteLabels, ROUTE_LABEL, renderHealthcheck } from './route-labels.js';

/**
 * A container's labels with its `ghost.healthcheck` as it is probed (issue 11): a routed service's
 * owner writes `{port}` in it (each instance is checked on its own port), so on a container the owner
 * started, or one a recreate made from it, the label still holds the template. Rendered here with
 * the container's own port (ghost.instance-port, its ghost.port.env variable, or its published
 * ghost.port.container), so every health check (the executor's gate, the monitor's pings) probes
 * this container and never `{port}` literally. Labels without `{port}`, or whose port cannot be told,
 * are returned as they are (the check then names the label as invalid, as before).
 */
export function healthLabelsOf(
  info: Pick<ContainerInspect, 'Config'> & Partial<Pick<ContainerInspect, 'HostConfig'>>,
): Record<string, string> {
  const labels = info.Config?.Labels ?? {};
  const check = labels[ROUTE_LABEL.healthcheck];
  if (check === undefined || !check.includes(PORT_PLACEHOLDER)) return labels;
  const parsed = parseRouteLabels(labels);
  if (!parsed.ok || !parsed.routed) return labels;
  const port = instancePortOf(info, parsed.routed);
  return port === null ? labels : { ...labels, [ROUTE_LABEL.healthcheck]: renderHealthcheck(check, port) };
}
