// A routed web service for the proxy tests: helm-test/web:1 on the host network, labelled to be
// served through the proxy on a route port of its own (its app told its port by PORT, its
// healthcheck with {port}), and its route created in the test's Caddy.
import type { ProxyPort } from '../../../src/proxy/proxy-port.js';
import { upstream } from '../../../src/proxy/proxy-port.js';
import { uniqueName } from '../../helpers/containers.js';
import { freePort, startWebService, type WebService } from '../../helpers/docker.js';

export interface RoutedWeb {
  service: string;
  routePort: number;
  web: WebService;
  /** The proxy's listener for it. */
  url: string;
}

export async function startRoutedWeb(
  proxy: ProxyPort,
  stem: string,
  labels: Record<string, string>,
): Promise<RoutedWeb> {
  const service = uniqueName(stem);
  const routePort = await freePort();
  const web = await startWebService({
    name: uniqueName(`${stem}-web`),
    labels: {
      ...labels,
      'ghost.service': service,
      'ghost.route.port': String(routePort),
      'ghost.port.env': 'PORT',
      'ghost.healthcheck': 'http://127.0.0.1:{port}/health',
    },
    healthcheck: true,
  });
  await proxy.createRoute({ service, listen: { kind: 'port', port: routePort, bindHost: '127.0.0.1' } }, [
    upstream(web.port),
  ]);
  return { service, routePort, web, url: `http://127.0.0.1:${routePort}/` };
}

/** A Helm's proxy settings for the test's Caddy: instance ports from 40 free-looking ports, 1 s drain. */
export async function proxyEnv(adminUrl: string): Promise<Record<string, string>> {
  const first = await freePort();
  return {
    HELM_PROXY_ADMIN: adminUrl,
    HELM_PROXY_PORT_RANGE: `${first}-${first + 40}`,
    HELM_PROXY_BIND: '127.0.0.1',
    HELM_PROXY_DRAIN_S: '1',
  };
}
