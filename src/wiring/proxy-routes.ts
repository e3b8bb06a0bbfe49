import type { DockerEvents } from '../docker/docker-ports.js';
import { makeCaddyAdmin } from '../proxy/caddy-admin.js';
import { startRouteWatch } from '../proxy/route-watch.js';
import type { HelmParts } from './parts.js';

/**
 * Routed services get their route in the front proxy (issue 11): at start, and when a routed
 * container starts. Runs with the monitor (one per host). Each route created is logged; a service
 * whose labels are wrong is logged once per pass with the reasons; the proxy unreachable is a warning
 * (the watch goes on, and the next start looks again).
 */
export async function wireProxyRoutes(
  p: HelmParts,
  events: Pick<DockerEvents, 'subscribeContainerEvents'>,
): Promise<void> {
  const logger = p.logger.child({ part: 'proxy-routes' });
  const watch = await startRouteWatch({
    docker: p.docker,
    proxy: makeCaddyAdmin({ adminUrl: p.config.proxy.adminUrl }),
    scope: p.config.scope,
    settings: { server: p.config.proxy.server, bindHost: p.config.proxy.bindHost },
    events,
    onActions: (actions) => {
      for (const action of actions) {
        if (action.kind === 'create') {
          logger.info(
            { service: action.service, upstreams: action.upstreams.map((u) => `${u.host}:${u.port}`) },
            `proxy: created the route of ${action.service}`,
          );
        } else if (action.kind === 'skip') {
          logger.warn(
            { service: action.service, reason: action.reason },
            `proxy: no route for ${action.service}`,
          );
        }
      }
    },
    onError: (err) => logger.warn({ err }, 'proxy: routes not checked (the proxy or Docker did not answer)'),
  });
  p.onClose(() => watch.close());
}
