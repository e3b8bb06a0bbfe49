import type { Scope } from '../config/config.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { isKeptContainer } from '../docker/kept-containers.js';
import { servicesInScope } from '../docker/scope.js';
import type { ProxyPort, RouteListen, RouteSpec, Upstream } from './proxy-port.js';
import { upstream } from './proxy-port.js';
import { parseRouteLabels, ROUTE_LABEL, type RoutedService } from './route-labels.js';

/**
 * A routed service found running without its route gets it (issue 11): the owner labels a container
 * and it is served through the proxy. Decided as data (`planRoutes`), then one createRoute per
 * service (`ensureRoutes`). An existing route of Helm's is left as it is: which instance it points
 * at is the deploy's (and its recovery's) business, under the service's lease.
 */

export interface ProxySettings {
  /** The owner's server host routes go on (HELM_PROXY_SERVER). */
  server: string;
  /** Port routes listen on this address; '' : every address (HELM_PROXY_BIND). */
  bindHost: string;
}

export type RouteAction =
  | { service: string; kind: 'create'; spec: RouteSpec; upstreams: Upstream[] }
  | { service: string; kind: 'keep' | 'skip'; reason: string };

/** The host port an instance listens on, as Docker shows it; null when it cannot be told. */
export function instancePortOf(
  info: Pick<ContainerInspect, 'Config'> & Partial<Pick<ContainerInspect, 'HostConfig'>>,
  routed: RoutedService,
): number | null {
  const labelled = info.Config.Labels?.[ROUTE_LABEL.instancePort];
  if (labelled !== undefined && /^\d{1,5}$/.test(labelled)) return Number(labelled);
  if (routed.instancePort.kind === 'env') {
    const prefix = `${routed.instancePort.name}=`;
    const value = (info.Config.Env ?? []).find((e) => e.startsWith(prefix))?.slice(prefix.length);
    return value !== undefined && /^\d{1,5}$/.test(value) ? Number(value) : null;
  }
  const bound = info.HostConfig?.PortBindings?.[`${routed.instancePort.port}/tcp`]?.[0]?.HostPort;
  return bound && /^\d{1,5}$/.test(bound) ? Number(bound) : null;
}

/** Running, not restarting, and not unhealthy or still starting by Docker's own healthcheck. */
function servesTraffic(info: ContainerInspect): boolean {
  const health = info.State.Health?.Status;
  return info.State.Running && !info.State.Restarting && health !== 'unhealthy' && health !== 'starting';
}

export function routeListen(routed: RoutedService, settings: ProxySettings): RouteListen {
  return routed.route.kind === 'port'
    ? { kind: 'port', port: routed.route.port, bindHost: settings.bindHost }
    : { kind: 'host', host: routed.route.host, server: settings.server };
}

/** What to do for one service: its active containers, inspected, and whether Helm's route exists. */
export function planRoute(
  service: string,
  containers: readonly ContainerInspect[],
  routeExists: boolean,
  settings: ProxySettings,
): RouteAction {
  const declaring = containers.find(declaresRoute);
  if (!declaring)
    return { service, kind: 'skip', reason: 'not routed (no ghost.route.port or ghost.route.host)' };
  const parsed = parseRouteLabels(declaring.Config.Labels ?? {});
  if (!parsed.ok) return { service, kind: 'skip', reason: parsed.problems.join('; ') };
  const routed = parsed.routed as RoutedService;
  if (routeExists) return { service, kind: 'keep', reason: 'the route is there' };
  const ports = containers
    .filter(servesTraffic)
    .map((c) => instancePortOf(c, routed))
    .filter((p): p is number => p !== null);
  if (ports.length === 0)
    return { service, kind: 'skip', reason: 'no running healthy instance with a known port' };
  const upstreams = [...new Set(ports)].sort((a, b) => a - b).map(upstream);
  return { service, kind: 'create', spec: { service, listen: routeListen(routed, settings) }, upstreams };
}

/** The container carries route labels, valid or not. */
function declaresRoute(c: ContainerInspect): boolean {
  const parsed = parseRouteLabels(c.Config.Labels ?? {});
  return !parsed.ok || parsed.routed !== null;
}

export interface EnsureRoutesDeps {
  docker: Pick<DockerReads, 'listContainers' | 'inspectContainer'>;
  proxy: ProxyPort;
  scope: Scope;
  settings: ProxySettings;
}

/**
 * Creates the missing routes of the routed services in scope (or of `only`, a service name), and
 * says what it did for each. A service the proxy refuses is reported, not thrown: the others go on.
 */
export async function ensureRoutes(deps: EnsureRoutesDeps, only?: string): Promise<RouteAction[]> {
  const services = servicesInScope(await deps.docker.listContainers(), deps.scope).filter(
    (s) => s.via === 'ghost.service' && (only === undefined || s.name === only),
  );
  const actions: RouteAction[] = [];
  for (const service of services) {
    const active = service.containers.filter((c) => !isKeptContainer(c));
    const infos = await Promise.all(active.map((c) => deps.docker.inspectContainer(c.id)));
    if (!infos.some(declaresRoute)) continue;
    let action: RouteAction;
    try {
      const exists = (await deps.proxy.readRoute(service.name)) !== null;
      action = planRoute(service.name, infos, exists, deps.settings);
      if (action.kind === 'create') await deps.proxy.createRoute(action.spec, action.upstreams);
    } catch (error) {
      action = {
        service: service.name,
        kind: 'skip',
        reason: error instanceof Error ? error.message : String(error),
      };
    }
    actions.push(action);
  }
  return actions;
}
