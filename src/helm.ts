import type { DestinationStream } from 'pino';
import { type Clock, systemClock } from './base/clock.js';
import type { Config } from './config/config.js';
import type { DockerReads } from './docker/docker-ports.js';
import { makeDockerEvents } from './docker/dockerode-events.js';
import { makeDockerOps } from './docker/dockerode-ops.js';
import { describeScope } from './docker/scope.js';
import { makeRunLogLedger } from './gate/run-log-ledger.js';
import { type Logger, makeLoggerWithFile } from './log/logger.js';
import { Redactor } from './log/redactor.js';
import { urlPassword } from './log/url-credentials.js';
import { makeReleaseStore } from './releases/release-store.js';
import type { RunLog } from './runlog/index.js';
import { makeSecretStore } from './secrets/secret-store.js';
import { readSecretScopes } from './secrets/secret-scopes.js';
import { HELM_VERSION } from './base/version.js';
import { makeSinks, openBusQueues, openRedis } from './wiring/bus.js';
import { wireAdvisor } from './wiring/advisor.js';
import { makeExecution, wireExecutor } from './wiring/executor.js';
import { wireGate } from './wiring/gate.js';
import { wireHttp } from './wiring/http.js';
import { meterDocker, meterOperations, meterRunLog } from './wiring/metered.js';
import { makePromMetrics, type PromMetrics } from './http/prom-metrics.js';
import { claimKeyOnTheBus, loadHelmKeys, openWardenKeys } from './wiring/keys.js';
import { wireMonitor } from './wiring/monitor.js';
import { wireProxyRoutes } from './wiring/proxy-routes.js';
import { loadOwnerServices, loadPolicy, servicesSecretScopeProblems } from './wiring/owner-files.js';
import type { HelmParts } from './wiring/parts.js';
import { makePlanSources } from './wiring/plan-sources.js';
import { alertOnRunLogHealth, openOwnRunLog } from './wiring/run-log.js';
import { makeShutdown } from './wiring/shutdown.js';
import { StartupError } from './wiring/startup-error.js';
import { startOwnHeartbeat, watchActionFailures, watchOtherAgentsQueues } from './wiring/watches.js';

export { LOCAL_HOST } from './wiring/parts.js';
export { StartupError };

/**
 * Wires one Helm process: checks its Redis, opens its run log, starts the workers this process
 * runs, the failure watch, the heartbeat and the queue watch. Used by main.ts and by tests, which
 * start Helm in-process with their own prefix, memory folder and scope. Each part's wiring is a
 * function of src/wiring/; this file says in which order they run.
 */
export interface HelmOptions {
  clock?: Clock;
  logDestination?: DestinationStream;
  docker?: DockerReads;
  /** The executor's observer of each recorded intent step (ExecDeps.onStepRecorded); tests only. */
  onStepRecorded?: (step: string) => void;
}

export interface Helm {
  config: Readonly<Config>;
  logger: Logger;
  runLog: RunLog;
  redactor: Redactor;
  /** Reads Warden's key file again (SIGHUP). */
  reloadWardenKeys(): void;
  /** The owner's endpoints (HELM_HTTP_ADDR) as bound, the port chosen when 0 was asked; null: off. */
  http: { port: number; url: string } | null;
  close(): Promise<void>;
}

export async function startHelm(config: Readonly<Config>, opts: HelmOptions = {}): Promise<Helm> {
  const clock = opts.clock ?? systemClock;
  const redactor = new Redactor();
  redactor.add(config.anthropicApiKey);
  redactor.add(config.httpToken);
  // A model endpoint behind an authenticating proxy: its password never reaches a log line.
  for (const url of [config.advisor.anthropicBaseUrl, config.ollamaHost]) redactor.add(urlPassword(url));
  const { logger, file: logFile } = makeLoggerWithFile({
    level: config.logLevel,
    redactor,
    base: { instance: config.instance },
    ...(opts.logDestination ? { destination: opts.logDestination } : {}),
    ...(config.logFile ? { file: config.logFile } : {}),
  });
  const shutdown = makeShutdown(logger);
  // Closed last (shutdown runs in reverse): the log file gets every line of the shutdown.
  if (logFile) shutdown.onClose(() => logFile.close());

  // Metrics only with the HTTP server that serves them; off, nothing is wrapped or counted.
  const prom: PromMetrics | null = config.http ? makePromMetrics() : null;
  const metrics = prom?.metrics ?? null;
  try {
    const parts = await openParts(
      config,
      { clock, logger, redactor, onClose: shutdown.onClose, metrics },
      opts,
    );
    // The advisor first: the gate tells it of parked deploys, every sender of alerts feeds it.
    const advisor = config.workers.some((w) => w === 'gate' || w === 'monitor') ? wireAdvisor(parts) : null;
    if (config.workers.includes('gate')) wireGate(parts, { onParked: advisor?.reviewer?.onParked });
    if (config.workers.includes('executor'))
      wireExecutor(parts, opts.onStepRecorded ? { onStepRecorded: opts.onStepRecorded } : {});
    await watchActionFailures(parts);
    startOwnHeartbeat(parts);
    if (config.workers.includes('monitor')) {
      await wireMonitor(parts, makeDockerEvents(config.dockerHost));
      await wireProxyRoutes(parts, makeDockerEvents(config.dockerHost));
    }
    watchOtherAgentsQueues(parts);
    const http = await wireHttp(parts, prom);
    await announceStart(parts);
    return {
      config,
      logger,
      runLog: parts.runLog,
      redactor,
      close: shutdown.close,
      reloadWardenKeys: () => parts.wardenKeys.reload('SIGHUP'),
      http: http && { port: http.port, url: http.url },
    };
  } catch (err) {
    await shutdown.close();
    throw err;
  }
}

/**
 * Start-up, in order: the secrets and their scopes, Redis (durable enough), Helm's key and its claim
 * on the bus, the run log, Docker, the queues and sinks, Warden's keys, the policy, the approval
 * ledger, the release records and the owner's services file, the executors' operations.
 */
async function openParts(
  config: Readonly<Config>,
  base: Pick<HelmParts, 'clock' | 'logger' | 'redactor' | 'onClose' | 'metrics'>,
  opts: HelmOptions,
): Promise<HelmParts> {
  const { clock, logger, redactor, onClose, metrics } = base;
  const secrets = makeSecretStore(config.secretsDir, redactor);
  const scan = await secrets.scan();
  for (const p of scan.problems) logger.warn(p);
  // Where each secret may go: a scopes file Helm cannot read stops start-up (secrets/secret-scopes.ts).
  const secretScopes = await readSecretScopes(config.secretsDir);
  if (!secretScopes.ok) throw new StartupError(secretScopes.problems);

  const redis = await openRedis(config, logger, onClose);
  const keys = await loadHelmKeys(config);
  const explainBadMac = await claimKeyOnTheBus(config, {
    redis,
    internalKey: keys.internal,
    logger,
    onClose,
  });
  const ownRunLog = await openOwnRunLog(config, keys.runLog, clock, logger);
  const runLog = metrics ? meterRunLog(ownRunLog, metrics) : ownRunLog;
  onClose(() => runLog.close());
  const { docker, opsDocker } = await openDocker(config, opts, logger, metrics);

  const queues = openBusQueues(config, redis, onClose);
  const { alerts, sinks } = makeSinks(config, { redis, queues, runLog, clock, redactor, logger, metrics });
  alertOnRunLogHealth(runLog, alerts);
  const wardenKeys = openWardenKeys(config, { logger, alerts, onClose });
  const policy = await loadPolicy(config);
  const ledger = await makeRunLogLedger({
    dir: config.memoryDir,
    clock,
    horizonMs: policy.approvalDeadlineS * 1000 + config.clockSkewMs,
  });
  const releases = makeReleaseStore(config.memoryDir);
  // What the executors' operations (and crash recovery) run with; null: a read-only Docker.
  const services = await loadOwnerServices(config);
  if (services) for (const p of servicesSecretScopeProblems(services, secretScopes.scopes)) logger.warn(p);
  const planSources = makePlanSources(config, { releases, secrets, secretKey: keys.secret, services });
  const execution = makeExecution(
    { config, clock, logger, redactor, opsDocker, releases, secrets, metrics },
    policy,
    services,
  );
  return {
    ...base,
    config,
    redis,
    runLog,
    alerts,
    sinks,
    queues,
    docker,
    opsDocker,
    keys,
    explainBadMac,
    wardenKeys,
    keyring: () => wardenKeys.keyring(),
    policy,
    ledger,
    secrets,
    releases,
    planSources,
    ...execution,
    ...(metrics ? { operations: meterOperations(execution.operations, metrics) } : {}),
    retention: { age: config.requestIdWindowS, count: config.jobRetentionCount },
  };
}

/** Tests may hand in a read-only Docker (bench wrappers); then this Helm runs no changes. */
async function openDocker(
  config: Readonly<Config>,
  opts: HelmOptions,
  logger: Logger,
  metrics: HelmParts['metrics'],
): Promise<Pick<HelmParts, 'docker' | 'opsDocker'>> {
  const metered = <T extends object>(port: T): T => (metrics ? meterDocker(port, metrics) : port);
  const opsDocker = opts.docker ? null : metered(makeDockerOps(config.dockerHost));
  const docker = opts.docker ? metered(opts.docker) : opsDocker!;
  await docker
    .ping()
    .catch((err) =>
      logger.error(
        { err },
        'the Docker engine does not answer; requests will fail with docker_error until it does',
      ),
    );
  return { docker, opsDocker };
}

/** The start-up line in the run log and the process log. */
async function announceStart(p: HelmParts): Promise<void> {
  const { config, runLog, logger } = p;
  await runLog
    .append({
      event: 'startup',
      message: `Helm ${HELM_VERSION} started on host ${config.host} (workers: ${config.workers.join(', ')}; scope: ${describeScope(config.scope)})`,
    })
    .catch((err) => logger.error({ err }, 'could not log start-up'));
  logger.info(
    {
      version: HELM_VERSION,
      prefix: config.queuePrefix,
      workers: config.workers,
      scope: describeScope(config.scope),
      runLog: runLog.path,
    },
    'Helm is running',
  );
}
