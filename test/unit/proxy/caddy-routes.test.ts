// Helm's route JSON for Caddy, as data (what caddy-admin.ts PUTs and PATCHes), and reading it back.
import { describe, expect, it } from 'vitest';
import {
  buildRoute,
  createRequest,
  parseRoute,
  routeId,
  upstreamsPath,
} from '../../../src/proxy/caddy-routes.js';
import { upstream } from '../../../src/proxy/proxy-port.js';

const portSpec = { service: 'web', listen: { kind: 'port' as const, port: 8080, bindHost: '127.0.0.1' } };
const hostSpec = {
  service: 'shop',
  listen: { kind: 'host' as const, host: 'shop.example.com', server: 'srv0' },
};
// Tried in order (the new instance first during a switch), refused connections and GET/HEAD retried.
const retry = {
  selection_policy: { policy: 'first' },
  try_duration: '5s',
  try_interval: '100ms',
  retry_match: [{ method: ['GET', 'HEAD'] }],
};
const passive = { passive: { fail_duration: '10s', max_fails: 1 } };

describe('createRequest', () => {
  it("a port route is a listener of Helm's own, named and identified as Helm's, holding the route alone", () => {
    expect(createRequest(portSpec, [upstream(41001)])).toEqual({
      path: '/config/apps/http/servers/helm-web',
      body: {
        '@id': 'helm-srv-web',
        listen: ['127.0.0.1:8080'],
        automatic_https: { disable: true },
        routes: [
          {
            '@id': 'helm-web',
            handle: [
              {
                handler: 'reverse_proxy',
                upstreams: [{ dial: '127.0.0.1:41001' }],
                load_balancing: retry,
                health_checks: passive,
              },
            ],
          },
        ],
      },
    });
  });

  it("a host route is inserted first on the owner's server, matching its host, terminal", () => {
    expect(createRequest(hostSpec, [upstream(41002), upstream(41003)])).toEqual({
      path: '/config/apps/http/servers/srv0/routes/0',
      body: {
        '@id': 'helm-shop',
        match: [{ host: ['shop.example.com'] }],
        terminal: true,
        handle: [
          {
            handler: 'reverse_proxy',
            upstreams: [{ dial: '127.0.0.1:41002' }, { dial: '127.0.0.1:41003' }],
            load_balancing: retry,
            health_checks: passive,
          },
        ],
      },
    });
  });
});

describe('ids and paths', () => {
  it("a switch touches only the upstreams of the route with Helm's id", () => {
    expect(routeId('web')).toBe('helm-web');
    expect(upstreamsPath('web')).toBe('/id/helm-web/handle/0/upstreams');
  });

  it.each(['', '../x', 'a/b', 'web?x=1', 'x y'])('refuses the service name %j in a path', (name) => {
    expect(() => routeId(name)).toThrow(/is not a service name Helm can route/);
  });
});

describe('parseRoute', () => {
  it('reads back what buildRoute made', () => {
    const json = buildRoute(portSpec, [upstream(41001), upstream(41005)]);
    expect(parseRoute('web', json)).toEqual({
      service: 'web',
      id: 'helm-web',
      upstreams: [upstream(41001), upstream(41005)],
    });
  });

  it("refuses a route under Helm's id that is not Helm's shape", () => {
    expect(() => parseRoute('web', { '@id': 'helm-web', handle: [{ handler: 'static_response' }] })).toThrow(
      /not one Helm made/,
    );
    expect(() => parseRoute('web', { '@id': 'other', handle: [] })).toThrow(/not one Helm made/);
  });

  it('refuses an upstream Helm never sets (not a loopback port)', () => {
    // 10.0.0.5 is data for the pure parser, which refuses it; no proxy or socket is involved.
    const json = {
      '@id': 'helm-web',
      handle: [{ handler: 'reverse_proxy', upstreams: [{ dial: '10.0.0.5:80' }] }],
    };
    expect(() => parseRoute('web', json)).toThrow(/an upstream Helm did not set/);
  });
});
