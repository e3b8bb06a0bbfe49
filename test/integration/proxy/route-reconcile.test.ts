// A routed service found running without its route gets it (issue 11): real Docker (helm-test/web on
// the host network, its port from PORT) and a real Caddy; the owner's config is left as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import { makeCaddyAdmin } from '../../../src/proxy/caddy-admin.js';
import { upstream } from '../../../src/proxy/proxy-port.js';
import { ensureRoutes, type RouteAction } from '../../../src/proxy/route-reconcile.js';
import { startRouteWatch } from '../../../src/proxy/route-watch.js';
import { makeDockerEvents } from '../../../src/docker/dockerode-events.js';
import { startTestCaddy, type TestCaddy } from '../../helpers/caddy.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import {
  freePort,
  LABEL_FILE,
  removeTestContainers,
  startWebService,
  testFileId,
} from '../../helpers/docker.js';
import { requestLoop } from '../../helpers/http-upstream.js';

describe('ensureRoutes', () => {
  let caddy: TestCaddy;
  beforeAll(async () => {
    caddy = await startTestCaddy();
  });
  afterAll(async () => {
    await caddy?.destroy();
    await removeTestContainers();
  });

  it('creates the route of a labelled running service, serves it through the proxy, then leaves it alone', async () => {
    const service = uniqueName('routed');
    const routePort = await freePort();
    const web = await startWebService({
      labels: { 'ghost.service': service, 'ghost.route.port': String(routePort), 'ghost.port.env': 'PORT' },
      healthcheck: true, // the image's Docker healthcheck: an instance still "starting" gets no traffic
    });
    const plain = await startWebService({ labels: { 'ghost.service': uniqueName('plain') } });
    const deps = {
      docker: makeDockerReads(undefined),
      proxy: makeCaddyAdmin({ adminUrl: caddy.adminUrl }),
      scope: { labels: [{ key: LABEL_FILE, value: testFileId() }], allServices: false, composeProjects: [] },
      settings: { server: 'srv0', bindHost: '127.0.0.1' },
    };

    const first = await ensureRoutes(deps);
    expect(first).toEqual([
      {
        service,
        kind: 'create',
        spec: { service, listen: { kind: 'port', port: routePort, bindHost: '127.0.0.1' } },
        upstreams: [upstream(web.port)],
      },
    ]);
    expect((await deps.proxy.readRoute(service))?.upstreams).toEqual([upstream(web.port)]);
    const through = await requestLoop(`http://127.0.0.1:${routePort}/`, 5, 1);
    expect(through.failures).toEqual([]);
    expect([...through.bodies.values()]).toEqual([5]);
    // The plain service got nothing; a second pass keeps the route as it is.
    expect(await deps.proxy.readRoute(plain.name)).toBeNull();
    expect(await ensureRoutes(deps, service)).toEqual([
      { service, kind: 'keep', reason: 'the route is there' },
    ]);
    await deps.proxy.removeRoute(service);
  });

  it('gives a routed container that starts while Helm watches its route as soon as it is healthy', async () => {
    const service = uniqueName('late');
    const routePort = await freePort();
    const seen: RouteAction[] = [];
    const errors: unknown[] = [];
    const deps = {
      docker: makeDockerReads(undefined),
      proxy: makeCaddyAdmin({ adminUrl: caddy.adminUrl }),
      scope: { labels: [{ key: LABEL_FILE, value: testFileId() }], allServices: false, composeProjects: [] },
      settings: { server: 'srv0', bindHost: '127.0.0.1' },
      events: makeDockerEvents(undefined),
      onActions: (actions: RouteAction[]) => seen.push(...actions),
      onError: (error: unknown) => errors.push(error),
    };
    const watch = await startRouteWatch(deps);
    try {
      expect(await deps.proxy.readRoute(service)).toBeNull();
      const web = await startWebService({
        labels: { 'ghost.service': service, 'ghost.route.port': String(routePort), 'ghost.port.env': 'PORT' },
      });
      const route = await waitFor(() => deps.proxy.readRoute(service), `the route of ${service}`);
      expect(route.upstreams).toEqual([upstream(web.port)]);
      expect(seen.filter((a) => a.service === service && a.kind === 'create')).toHaveLength(1);
      const through = await requestLoop(`http://127.0.0.1:${routePort}/`, 3, 1);
      expect(through.failures).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      watch.close();
      await deps.proxy.removeRoute(service);
    }
  });

  it('gives the route back after the proxy restarted without it', async () => {
    const service = uniqueName('again');
    const routePort = await freePort();
    const web = await startWebService({
      labels: { 'ghost.service': service, 'ghost.route.port': String(routePort), 'ghost.port.env': 'PORT' },
      healthcheck: true,
    });
    const errors: unknown[] = [];
    const proxy = makeCaddyAdmin({ adminUrl: caddy.adminUrl });
    const watch = await startRouteWatch({
      docker: makeDockerReads(undefined),
      proxy,
      scope: { labels: [{ key: LABEL_FILE, value: testFileId() }], allServices: false, composeProjects: [] },
      settings: { server: 'srv0', bindHost: '127.0.0.1' },
      events: makeDockerEvents(undefined),
      onActions: () => {},
      onError: (error: unknown) => errors.push(error),
      intervalMs: 300,
    });
    try {
      await waitFor(() => proxy.readRoute(service), `the route of ${service}`);
      // From its starting config: Helm's routes are gone (test-caddy.test.ts checks that restart).
      await caddy.restart();
      const back = await waitFor(() => proxy.readRoute(service), `the route of ${service} after the restart`);
      expect(back.upstreams).toEqual([upstream(web.port)]);
      expect((await requestLoop(`http://127.0.0.1:${routePort}/`, 3, 1)).failures).toEqual([]);
    } finally {
      watch.close();
    }
  });
});
