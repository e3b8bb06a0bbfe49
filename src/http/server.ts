import Fastify, { type FastifyInstance } from 'fastify';
import { requireBearerToken } from './bearer-token.js';
import { checkReadiness, type ReadinessChecks } from './readiness.js';

/**
 * Helm's HTTP server: the owner's endpoints. /healthz answers while the process serves; /readyz
 * asks each dependency; the other routes (/metrics, /queues) are mounted by the wiring. The bind
 * check (bind-check.ts) has already run: with a token set, every route needs it.
 */
export interface HttpServerDeps {
  bind: { host: string; port: number };
  token: string | undefined;
  readiness: ReadinessChecks;
  readinessTimeoutMs?: number;
  /** Further routes (metrics, Bull Board), registered after the token hook so that it guards them too. */
  mounts?: ReadonlyArray<(app: FastifyInstance) => Promise<void> | void>;
}

export interface HttpServer {
  /** The port it listens on (the one chosen when the configured port is 0). */
  port: number;
  /** e.g. http://127.0.0.1:9464 */
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(deps: HttpServerDeps): Promise<HttpServer> {
  const app = Fastify({ logger: false });
  if (deps.token) requireBearerToken(app, deps.token);
  app.get('/healthz', async () => ({ live: true }));
  app.get('/readyz', async (_request, reply) => {
    const readiness = await checkReadiness(deps.readiness, deps.readinessTimeoutMs ?? 3000);
    return reply.code(readiness.ready ? 200 : 503).send(readiness);
  });
  for (const mount of deps.mounts ?? []) await mount(app);
  await app.listen({ host: deps.bind.host, port: deps.bind.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : deps.bind.port;
  const host = deps.bind.host.includes(':') ? `[${deps.bind.host}]` : deps.bind.host;
  return { port, url: `http://${host}:${port}`, close: () => app.close() };
}
