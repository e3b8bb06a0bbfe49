import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { QUEUE } from '../bus/queue-names.js';
import { bindProblems } from '../http/bind-check.js';
import { mountBullBoard } from '../http/bull-board.js';
import type { PromMetrics } from '../http/prom-metrics.js';
import type { ReadinessChecks } from '../http/readiness.js';
import { type HttpServer, startHttpServer } from '../http/server.js';
import { mountStatusPage } from '../http/status-page.js';
import type { HelmParts } from './parts.js';
import { StartupError } from './startup-error.js';
import { makeStatusPageReader } from './status-page.js';

/**
 * The owner's endpoints (README, "Owner's endpoints"): off, or on HELM_HTTP_ADDR, loopback unless a
 * token guards it (bind-check.ts: Helm refuses to start otherwise). Closed at shutdown.
 */
export async function wireHttp(parts: HelmParts, prom: PromMetrics | null): Promise<HttpServer | null> {
  const { config, logger, onClose } = parts;
  if (!config.http || !prom) return null;
  const problems = bindProblems(config.http, config.httpToken);
  if (problems.length > 0) throw new StartupError(problems);
  const queues = busQueues(parts);
  prom.watchQueues(queues);
  parts.alerts.onSent((alert) => prom.metrics.alertSent(alert.kind, alert.severity));
  const readiness = readinessChecks(parts);
  const statusPage = makeStatusPageReader(parts, readiness);
  const mounts = [
    (app: FastifyInstance) => mountMetrics(app, prom),
    (app: FastifyInstance) => mountStatusPage(app, statusPage),
    // Bull Board: the four bus queues and Helm's own helm.exec.
    (app: FastifyInstance) => mountBullBoard(app, [...queues, parts.queues.exec], '/queues'),
  ];
  const server = await startHttpServer({
    bind: config.http,
    token: config.httpToken,
    readiness,
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

/** The four bus queues (CONTRACT.md "Transport"), on Helm's command connection; helm.approvals opened here. */
function busQueues(parts: HelmParts): Queue[] {
  const { config, redis, queues, onClose } = parts;
  const approvals = new Queue(QUEUE.approvals, { connection: redis, prefix: config.queuePrefix });
  onClose(() => approvals.close());
  return [queues.actions, approvals, queues.wardenRequests, queues.alerts];
}

/** /metrics: prom-client's text format, from Helm's own registry. */
function mountMetrics(app: FastifyInstance, prom: PromMetrics): void {
  app.get('/metrics', async (_request, reply) =>
    reply.header('content-type', prom.registry.contentType).send(await prom.registry.metrics()),
  );
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
