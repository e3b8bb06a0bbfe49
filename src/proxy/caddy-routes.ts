import { TARGET_PATTERN } from '../contracts/identifiers.js';
import type { RouteSpec, RouteState, Upstream } from './proxy-port.js';

/**
 * Caddy's JSON for Helm's routes, built and read as data (no I/O): what caddy-admin.ts sends to and
 * reads from the admin API. Every object Helm creates carries an "@id" of Helm's own naming, so Helm
 * addresses it through `/id/<id>` and never by its position in the owner's config.
 */

const ID_PREFIX = 'helm-';

/** The route's "@id": `helm-<service>`. */
export function routeId(service: string): string {
  return `${ID_PREFIX}${checkedService(service)}`;
}

/** The "@id" of the listener Helm creates for a port route: `helm-srv-<service>`. */
export function serverId(service: string): string {
  return `${ID_PREFIX}srv-${checkedService(service)}`;
}

/** The key of that listener under apps.http.servers: `helm-<service>`. */
export function serverName(service: string): string {
  return routeId(service);
}

/** The admin API path of the route's upstreams: the only thing a switch changes. */
export function upstreamsPath(service: string): string {
  return `/id/${routeId(service)}/handle/0/upstreams`;
}

function checkedService(service: string): string {
  // The name goes into admin API paths and ids: only the characters a target may have.
  if (!TARGET_PATTERN.test(service)) throw new Error(`"${service}" is not a service name Helm can route`);
  return service;
}

export function upstreamsJson(upstreams: readonly Upstream[]): Array<{ dial: string }> {
  return upstreams.map((u) => ({ dial: `${u.host}:${u.port}` }));
}

/**
 * The upstreams are tried in order ("first"): during a start-first switch the route lists the new
 * instance, then the old one, so while the new one answers it gets every request, and once it fails
 * (one failure marks it down for 10 s, passive health) requests go to the old one. A connection
 * refused is tried again for up to 5 s (the request was not sent), and so is a GET or HEAD whose
 * upstream died while answering (safe to send again).
 */
const LOAD_BALANCING = {
  selection_policy: { policy: 'first' },
  try_duration: '5s',
  try_interval: '100ms',
  retry_match: [{ method: ['GET', 'HEAD'] }],
};

/** The route: one reverse_proxy to the upstreams, tried as LOAD_BALANCING says. */
export function buildRoute(spec: RouteSpec, upstreams: readonly Upstream[]): Record<string, unknown> {
  const route: Record<string, unknown> = {
    '@id': routeId(spec.service),
    handle: [
      {
        handler: 'reverse_proxy',
        upstreams: upstreamsJson(upstreams),
        load_balancing: LOAD_BALANCING,
        health_checks: { passive: { fail_duration: '10s', max_fails: 1 } },
      },
    ],
  };
  if (spec.listen.kind === 'host') {
    route['match'] = [{ host: [spec.listen.host] }];
    route['terminal'] = true;
  }
  return route;
}

/** A port route's own listener: the server `helm-<service>`, holding the route alone. */
export function buildPortServer(spec: RouteSpec, upstreams: readonly Upstream[]): Record<string, unknown> {
  if (spec.listen.kind !== 'port') throw new Error('buildPortServer: a host route lives on the owner server');
  return {
    '@id': serverId(spec.service),
    listen: [`${spec.listen.bindHost}:${spec.listen.port}`],
    // A plain-HTTP listener of Helm's: no certificates, no redirect listener on :80.
    automatic_https: { disable: true },
    routes: [buildRoute(spec, upstreams)],
  };
}

/** Where a new route goes: the path to PUT to, and the JSON. */
export function createRequest(
  spec: RouteSpec,
  upstreams: readonly Upstream[],
): { path: string; body: Record<string, unknown> } {
  if (spec.listen.kind === 'port') {
    return {
      path: `/config/apps/http/servers/${serverName(spec.service)}`,
      body: buildPortServer(spec, upstreams),
    };
  }
  // Index 0 of the owner's server: a host match placed first, ahead of the owner's catch-all routes.
  const server = encodeURIComponent(spec.listen.server);
  return { path: `/config/apps/http/servers/${server}/routes/0`, body: buildRoute(spec, upstreams) };
}

const DIAL = /^127\.0\.0\.1:(\d{1,5})$/;

/**
 * Reads a route Helm created back into Helm's types. Anything else under Helm's id (edited by hand,
 * another shape) is an error, not a guess: the caller stops before changing it.
 */
export function parseRoute(service: string, json: unknown): RouteState {
  const id = routeId(service);
  const route = json as { '@id'?: unknown; handle?: unknown } | null;
  const handle = Array.isArray(route?.handle)
    ? (route.handle[0] as Record<string, unknown> | undefined)
    : undefined;
  if (
    route?.['@id'] !== id ||
    handle?.['handler'] !== 'reverse_proxy' ||
    !Array.isArray(handle['upstreams'])
  ) {
    throw new Error(`the proxy's route "${id}" is not one Helm made (no reverse_proxy as its first handler)`);
  }
  const upstreams = (handle['upstreams'] as Array<{ dial?: unknown }>).map((u) => {
    const match = typeof u.dial === 'string' ? DIAL.exec(u.dial) : null;
    if (!match)
      throw new Error(`the proxy's route "${id}" has an upstream Helm did not set: ${JSON.stringify(u)}`);
    return { host: '127.0.0.1' as const, port: Number(match[1]) };
  });
  return { service, id, upstreams };
}
