import http from 'node:http';
import {
  createRequest,
  parseRoute,
  routeId,
  serverId,
  upstreamsJson,
  upstreamsPath,
} from './caddy-routes.js';
import { ProxyError, type ProxyPort, type RouteSpec, type Upstream } from './proxy-port.js';

/**
 * The proxy port on Caddy's admin API (HELM_PROXY_ADMIN, a loopback URL). Each call is one HTTP
 * request on one object of Helm's, addressed by its "@id": never POST /load, never the whole config.
 */

export interface CaddyAdminOptions {
  /** e.g. `http://127.0.0.1:2019` */
  adminUrl: string;
  /** Per request; default 5 s (a config change reloads Caddy's servers gracefully, in milliseconds). */
  timeoutMs?: number;
}

interface Answer {
  status: number;
  text: string;
}

/** Caddy answers an unknown "@id" with a 404 and this message (2.6). */
function isUnknownId(answer: Answer): boolean {
  return answer.status === 404 && answer.text.includes('unknown object ID');
}

/**
 * One request on a connection of its own: Caddy replaces its admin server on every config change,
 * so a kept-alive connection from the previous call may already be closed (a spurious failure).
 */
function adminRequest(
  base: string,
  method: string,
  path: string,
  body: unknown,
  timeoutMs: number,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = payload === undefined ? {} : { 'content-type': 'application/json' };
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}${path}`,
      { method, headers, agent: false, timeout: timeoutMs },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', (error) => reject(unanswered(base, method, path, error)));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (error) => reject(unanswered(base, method, path, error)));
    req.end(payload);
  });
}

function unanswered(base: string, method: string, path: string, error: Error): ProxyError {
  return new ProxyError(
    `the proxy's admin API at ${base} did not answer ${method} ${path}: ${error.message}`,
  );
}

export function makeCaddyAdmin(options: CaddyAdminOptions): ProxyPort {
  const base = options.adminUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 5000;

  const call = (method: string, path: string, body?: unknown): Promise<Answer> =>
    adminRequest(base, method, path, body, timeoutMs);

  const refused = (method: string, path: string, answer: Answer): ProxyError => {
    let detail = answer.text.trim();
    try {
      const parsed = JSON.parse(detail) as { error?: unknown };
      if (typeof parsed.error === 'string') detail = parsed.error;
    } catch {
      // not JSON: the text as it came
    }
    return new ProxyError(
      `the proxy refused ${method} ${path}: ${answer.status} ${detail}`.trim(),
      answer.status,
    );
  };

  const mustSucceed = async (method: string, path: string, body?: unknown): Promise<void> => {
    const answer = await call(method, path, body);
    if (answer.status < 200 || answer.status > 299) throw refused(method, path, answer);
  };

  return {
    async readRoute(service) {
      const path = `/id/${routeId(service)}`;
      const answer = await call('GET', path);
      if (isUnknownId(answer)) return null;
      if (answer.status !== 200) throw refused('GET', path, answer);
      try {
        return parseRoute(service, JSON.parse(answer.text) as unknown);
      } catch (error) {
        throw new ProxyError(error instanceof Error ? error.message : String(error));
      }
    },

    async createRoute(spec: RouteSpec, upstreams: readonly Upstream[]) {
      const { path, body } = createRequest(spec, upstreams);
      await mustSucceed('PUT', path, body);
    },

    async replaceUpstreams(service, upstreams) {
      // PATCH replaces what is there and fails on a path that is not: a route that vanished (a proxy
      // restarted without its autosave) is an error for the caller, never silently re-created here.
      await mustSucceed('PATCH', upstreamsPath(service), upstreamsJson(upstreams));
    },

    async removeRoute(service) {
      // A port route goes with the listener Helm made for it; a host route alone from the owner's server.
      for (const id of [serverId(service), routeId(service)]) {
        const path = `/id/${id}`;
        const answer = await call('DELETE', path);
        if (answer.status >= 200 && answer.status <= 299) return;
        if (!isUnknownId(answer)) throw refused('DELETE', path, answer);
      }
    },

    async ping() {
      await mustSucceed('GET', '/config/admin');
    },
  };
}
