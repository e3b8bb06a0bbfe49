import { type RoutedService, renderHealthcheck } from './route-labels.js';

/**
 * One request to a routed service through the front proxy's own listener (issue 11), as a start-first
 * switch checks it after the switch: the path of the service's http healthcheck (2xx wanted), else
 * `/` (anything below 500 counts as served: the app answered, the proxy found an upstream). null:
 * answered; otherwise what went wrong, in plain words.
 *
 * Only a port route (ghost.route.port) has a listener Helm knows; a host route is served on one of
 * the owner's servers, whose address Helm does not know, so it is checked on each instance's own port
 * only (the health gate) and this answers null without asking.
 */
export function makeThroughProxy(
  routed: RoutedService,
  bindHost: string,
  timeoutMs = 5000,
): () => Promise<string | null> {
  if (routed.route.kind !== 'port') return async () => null;
  const host = bindHost === '' || bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost;
  const { path, want2xx } = pathOf(routed.healthcheck);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${routed.route.port}${path}`;
  return async () => {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      await res.arrayBuffer();
      const ok = want2xx ? res.ok : res.status < 500;
      return ok ? null : `${url} answered HTTP ${res.status}`;
    } catch (error) {
      return `${url}: ${(error as Error).message}`;
    }
  };
}

function pathOf(healthcheck: string | null): { path: string; want2xx: boolean } {
  if (healthcheck === null) return { path: '/', want2xx: false };
  const url = new URL(renderHealthcheck(healthcheck, 1));
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { path: '/', want2xx: false };
  return { path: `${url.pathname}${url.search}`, want2xx: true };
}
