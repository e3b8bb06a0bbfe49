/**
 * The front proxy as Helm sees it, in Helm's own types (no Caddy JSON here): the one route Helm
 * keeps per routed service, and the four things it does with it. The adapter (caddy-admin.ts) is
 * Caddy's admin API; the route JSON is built, pure, in caddy-routes.ts.
 *
 * Helm only ever touches routes it created (their ids are its own, `helm-<service>`), never the
 * owner's, and never rewrites the proxy's whole config.
 */

/** One instance the proxy forwards to: always a loopback port (host networking, or a published port). */
export interface Upstream {
  host: '127.0.0.1';
  port: number;
}

/** Where the proxy serves a routed service (labels ghost.route.port / ghost.route.host). */
export type RouteListen =
  /** A listener of Helm's own on this port, all of it the service's. */
  | { kind: 'port'; port: number; bindHost: string }
  /** A host name matched on one of the owner's servers (its name in the proxy's config). */
  | { kind: 'host'; host: string; server: string };

/** What Helm asks for: the service's route, where it listens. */
export interface RouteSpec {
  service: string;
  listen: RouteListen;
}

/** A route of Helm's as read back from the proxy. */
export interface RouteState {
  service: string;
  /** The proxy's own id of the route (`helm-<service>`). */
  id: string;
  upstreams: Upstream[];
}

export interface ProxyPort {
  /** Helm's route of the service, or null when the proxy has none. */
  readRoute(service: string): Promise<RouteState | null>;
  /** Creates Helm's route for the service with these upstreams; fails if one exists already. */
  createRoute(spec: RouteSpec, upstreams: readonly Upstream[]): Promise<void>;
  /**
   * Replaces the upstreams of the service's route, and nothing else, in one change of the proxy's
   * config (requests in flight finish on the old upstream). Fails if the route is not there.
   */
  replaceUpstreams(service: string, upstreams: readonly Upstream[]): Promise<void>;
  /** Removes Helm's route of the service (and its own listener, for a port route); no-op when absent. */
  removeRoute(service: string): Promise<void>;
  /** The admin API answers (for doctor and the monitor). */
  ping(): Promise<void>;
}

/** The proxy refused or could not be reached; the message says what and where, in plain words. */
export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  constructor(
    message: string,
    /** The admin API's HTTP status, when it answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

export function upstream(port: number): Upstream {
  return { host: '127.0.0.1', port };
}

/** `127.0.0.1:8080, 127.0.0.1:8081`, for messages and plan steps. */
export function describeUpstreams(upstreams: readonly Upstream[]): string {
  return upstreams.length === 0 ? 'no upstream' : upstreams.map((u) => `${u.host}:${u.port}`).join(', ');
}
