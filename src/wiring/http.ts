import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { bindProblems } from '../http/bind-check.js';
import type { ReadinessChecks } from '../http/readiness.js';
import { type HttpServer, startHttpServer } from '../http/server.js';
import type { HelmParts } from './parts.js';
import { StartupError } from './startup-error.js';

/**
 * The owner's endpoints (README, "Owner's endpoints"): off, or on HELM_HTTP_ADDR, loopback unless a
 * token guards it (bind-check.ts: Helm refuses to start otherwise). Closed at shutdown.
 */
export async function wireHttp(
  parts: HelmParts,
  mounts: ReadonlyArray<(app: FastifyInstance) => Promise<void> | void> = [],
): Promise<HttpServer | null> {
  const { config, logger, onClose } = parts;
  if (!config.http) return null;
  const problems = bindProblems(config.http, config.httpToken);
  if (problems.length > 0) throw new StartupError(problems);
  const server = await startHttpServer({
    bind: config.http,
    token: config.httpToken,
    readiness: readinessChecks(parts),
    mounts,
  }).catch((err: NodeJS.ErrnoException) => {
    throw new StartupError([
      `HELM_HTTP_ADDR: cannot listen on ${config.http!.host}:${config.http!.port} (${err.code ?? err.message}); ` +
        'choose another address, or set it off',
    ]);
  });
  onClose(() => server.close());
  logger.info({ http: server.url, token: Boolean(config.httpToken) }, `owner's endpoints on ${server.url}`);
  return server;
}

/** /readyz: Redis answers, Docker answers, the run log is healthy and its folder writable. */
function readinessChecks(parts: HelmParts): ReadinessChecks {
  const { redis, docker, runLog, config, redactor } = parts;
  const redacted = (check: () => Promise<unknown>) => async () => {
    try {
      await check();
    } catch (err) {
      throw new Error(redactor.redact(err instanceof Error ? err.message : String(err)));
    }
  };
  return {
    redis: redacted(() => redis.ping()),
    docker: redacted(() => docker.ping()),
    run_log: redacted(async () => {
      const status = runLog.status();
      if (!status.healthy) throw new Error(status.reason ?? 'the run log is unhealthy');
      await access(config.memoryDir, constants.W_OK);
    }),
  };
}
