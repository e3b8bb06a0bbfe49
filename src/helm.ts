import { Queue, QueueEvents } from 'bullmq';
import type { DestinationStream } from 'pino';
import { type Clock, systemClock } from './base/clock.js';
import type { Config } from './config/config.js';
import { makeAlertSender } from './bus/alert-sender.js';
import { startHeartbeat } from './bus/heartbeat.js';
import {
  claimInternalKey,
  describeKeyConflict,
  differingClaims,
  internalKeyFingerprint,
  type KeyClaim,
  KeyConflictError,
} from './bus/internal-key-claim.js';
import { EXEC_QUEUE, QUEUE, WATCHED_QUEUES, WORKER_QUEUES } from './bus/queue-names.js';
import { startQueueWatch } from './bus/queue-watch.js';
import { makeBlockingConnection, makeCommandConnection } from './bus/redis-connection.js';
import { judgeDurability, readRedisDurability } from './bus/redis-durability.js';
import { makeRequestRecords } from './bus/request-records.js';
import { makeJobDataText } from './bus/job-data-text.js';
import { type DockerReads, makeDockerEvents, makeDockerOps } from './docker/docker-client.js';
import { makeIntendedCheck, makeLeaseProbe } from './monitor/intended.js';
import { DEFAULT_RESOURCE_RULES } from './monitor/resource-rules.js';
import { startMonitor } from '../workers/monitor.js';
import { withDiskCleanup } from './monitor/disk-cleanup.js';
import { observeHost } from './observe/observe-target.js';
import { makeReleaseStore } from './releases/release-store.js';
import type { ComposeSettings } from './executor/compose/compose-target.js';
import type { ExecContext } from './executor/exec-context.js';
import {
  definedEnvironment,
  definedSecrets,
  loadServicesFile,
  makeServiceDefinitions,
  type ServicesFile,
} from './executor/services-file.js';
import { describeScope } from './docker/scope.js';
import { watchBullmqFailures } from './intake/bullmq-failures.js';
import { deriveKey, loadOrCreateHelmKey } from './keys/helm-key.js';
import { type Logger, makeLoggerWithFile } from './log/logger.js';
import { Redactor } from './log/redactor.js';
import { openRunLog, type RunLog, RunLogLockedError } from './runlog/index.js';
import { makeSecretStore } from './secrets/secret-store.js';
import { readSecretScopes, type SecretScopes, secretScopeProblem } from './secrets/secret-scopes.js';
import { HELM_VERSION } from './base/version.js';
import { startExecutorWorker } from '../workers/executor.js';
import { startGateWorkers } from '../workers/gate.js';
import { makeIntentStore } from './intents/intent-store.js';
import { makeLeaseManager } from './executor/lease.js';
import { makeOperations } from './executor/operations.js';
import { makeRecovery, recoverOrphanedIntents } from './executor/recover.js';
import { makeRunLogLedger } from './gate/run-log-ledger.js';
import { makeGate } from './gate/gate.js';
import type { SecretScopeSources } from './secrets/secret-scope-check.js';
import { makeParkedStore } from './gate/parked-store.js';
import { makeWardenKeys, type WardenKeys } from './gate/warden-keys.js';
import { makeRequestStateStore } from './gate/request-state.js';
import { DEFAULT_POLICY, type Policy } from './policy/policy.js';
import { loadPolicyFile } from './policy/policy-file.js';

/**
 * Wires one Helm process: checks its Redis, opens its run log, starts the workers this process
 * runs, the failure watch, the heartbeat and the queue watch. Used by main.ts and by tests, which
 * start Helm in-process with their own prefix, memory folder and scope.
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
  close(): Promise<void>;
}

export class StartupError extends Error {
  constructor(readonly problems: string[]) {
    super(`Helm cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = this.constructor.name;
  }
}

export async function startHelm(config: Readonly<Config>, opts: HelmOptions = {}): Promise<Helm> {
  const clock = opts.clock ?? systemClock;
  const redactor = new Redactor();
  redactor.add(config.anthropicApiKey);
  const { logger, file: logFile } = makeLoggerWithFile({
    level: config.logLevel,
    redactor,
    base: { instance: config.instance },
    ...(opts.logDestination ? { destination: opts.logDestination } : {}),
    ...(config.logFile ? { file: config.logFile } : {}),
  });
  const cleanup: Array<() => Promise<void> | void> = [];
  // Closed last (cleanup runs in reverse): the log file gets every line of the shutdown.
  if (logFile) cleanup.push(() => logFile.close());
  const close = async () => {
    for (const fn of cleanup.reverse())
      await Promise.resolve(fn()).catch((err) => logger.warn({ err }, 'shutdown step failed'));
    logger.flush?.();
  };

  try {
    const secrets = makeSecretStore(config.secretsDir, redactor);
    const scan = await secrets.scan();
    for (const p of scan.problems) logger.warn(p);
    // Where each secret may go: a scopes file Helm cannot read stops start-up (secrets/secret-scopes.ts).
    const secretScopes = await readSecretScopes(config.secretsDir);
    if (!secretScopes.ok) throw new StartupError(secretScopes.problems);

    const redis = makeCommandConnection(config.redisUrl, `helm-${config.instance}`);
    cleanup.push(() => redis.disconnect());
    const durability = judgeDurability(await readRedisDurability(redis), config.allowVolatileRedis);
    if (!durability.ok) throw new StartupError(durability.problems);
    for (const w of durability.warnings) logger.warn(w);

    const helmKey = await loadOrCreateHelmKey(config.memoryDir);
    const internalKey = deriveKey(helmKey, 'internal-job');
    const keyClaim: KeyClaim = {
      instance: config.instance,
      host: config.host,
      pid: process.pid,
      memory_dir: config.memoryDir,
      fingerprint: internalKeyFingerprint(internalKey),
    };
    // A job whose MAC fails while a live process holds another key: Helm's misconfiguration, no attack.
    const explainBadMac = async () => {
      const other = (await differingClaims(redis, config.queuePrefix, keyClaim.fingerprint))[0];
      return other ? describeKeyConflict(keyClaim, other) : null;
    };
    if (config.workers.includes('gate') || config.workers.includes('executor')) {
      // Before any worker takes a job, and before anything is written under this key (the run log): a
      // gate and an executor with different keys refuse each other's work, and the owner's fix is to
      // replace this process's helm.key.
      const claim = await claimInternalKey({
        redis,
        prefix: config.queuePrefix,
        claim: keyClaim,
        intervalMs: config.heartbeatIntervalMs,
        logger,
      }).catch((err) => {
        if (err instanceof KeyConflictError) throw new StartupError([err.message]);
        throw err;
      });
      cleanup.push(() => claim.stop());
    }
    const runLogKey = deriveKey(helmKey, 'run-log');
    const runLog = await openOwnRunLog(config, runLogKey, clock, logger);
    cleanup.push(() => runLog.close());

    // Tests may hand in a read-only Docker (bench wrappers); then this Helm runs no changes.
    const opsDocker = opts.docker ? null : makeDockerOps(config.dockerHost);
    const docker = opts.docker ?? opsDocker!;
    await docker
      .ping()
      .catch((err) =>
        logger.error(
          { err },
          'the Docker engine does not answer; requests will fail with docker_error until it does',
        ),
      );

    const queueOpts = {
      connection: redis,
      prefix: config.queuePrefix,
      streams: { events: { maxLen: config.eventsMaxLen } },
    };
    const actionsQueue = new Queue(QUEUE.actions, queueOpts);
    const alertsQueue = new Queue(QUEUE.alerts, queueOpts);
    const watchedQueues = WATCHED_QUEUES.map((name) =>
      name === QUEUE.alerts ? alertsQueue : new Queue(name, queueOpts),
    );
    cleanup.push(async () => {
      await Promise.all([actionsQueue, ...new Set([alertsQueue, ...watchedQueues])].map((q) => q.close()));
    });

    const alerts = makeAlertSender({
      queue: alertsQueue,
      clock,
      redactor,
      logger,
      retention: { age: config.requestIdWindowS, count: config.jobRetentionCount },
    });
    const records = makeRequestRecords(redis, config.queuePrefix, config.requestIdWindowS);
    const sinks = { runLog, records, alerts, redactor, logger };

    runLog.onHealthChange?.((status) => {
      void alerts.send(
        status.healthy
          ? {
              severity: 'info',
              kind: 'resolved',
              message: 'the run log is writable again',
              dedup_key: 'helm_degraded:run_log',
            }
          : {
              severity: 'critical',
              kind: 'helm_degraded',
              message: `Helm cannot write its run log (${status.reason}): it refuses every change until it can; reads go on`,
              dedup_key: 'helm_degraded:run_log',
            },
      );
    });

    let wardenKeys: WardenKeys;
    try {
      wardenKeys = makeWardenKeys(
        config,
        logger,
        (message) =>
          void alerts.send({
            severity: 'critical',
            kind: 'helm_degraded',
            message,
            dedup_key: 'helm_degraded:warden_keys',
          }),
      );
    } catch (err) {
      throw new StartupError([`Warden's public keys: ${(err as Error).message}`]);
    }
    cleanup.push(() => wardenKeys.close());
    const keyring = () => wardenKeys.keyring();
    const policy = await loadPolicy(config);
    const ledger = await makeRunLogLedger({
      dir: config.memoryDir,
      clock,
      horizonMs: policy.approvalDeadlineS * 1000 + config.clockSkewMs,
    });
    const execQueue = new Queue(EXEC_QUEUE, queueOpts);
    const wardenQueue = watchedQueues.find((q) => q.name === QUEUE.wardenRequests)!;
    cleanup.push(() => execQueue.close());
    const retention = { age: config.requestIdWindowS, count: config.jobRetentionCount };
    const configKey = deriveKey(helmKey, 'config-hmac');
    const secretKey = deriveKey(helmKey, 'secret-hmac');
    const releases = makeReleaseStore(config.memoryDir);
    // What the executors' operations (and crash recovery) run with; null: a read-only Docker.
    const services = await loadOwnerServices(config);
    if (services) for (const p of servicesSecretScopeProblems(services, secretScopes.scopes)) logger.warn(p);
    const secretScopeSources: SecretScopeSources = {
      secretScopes: () => readSecretScopes(config.secretsDir),
      ...(services ? { definedSecrets: (name: string) => definedSecrets(services, name) } : {}),
    };
    const execBase: (Omit<ExecContext, 'beforeChange'> & { compose: ComposeSettings }) | null = opsDocker
      ? {
          docker: opsDocker,
          clock,
          logger,
          redactor,
          releases,
          memoryDir: config.memoryDir,
          // The owner's policy may only lengthen the window.
          stabilityWindowMs: Math.max(config.stabilityWindowMs, (policy.stabilityWindowS ?? 0) * 1000),
          healthTimeoutMs: config.healthTimeoutMs,
          secrets,
          // The owner's services file: how to create a service that has no container yet.
          ...(services ? { definitions: makeServiceDefinitions(services, secrets) } : {}),
          compose: { command: config.composeCommand },
        }
      : null;
    const operations = makeOperations(execBase);

    if (config.workers.includes('gate')) {
      const parked = makeParkedStore(redis, config.queuePrefix);
      const jobDataText = makeJobDataText(redis);
      const gate = makeGate({
        ...sinks,
        clock,
        docker,
        parked,
        states: makeRequestStateStore(redis, config.queuePrefix, config.requestIdWindowS),
        execQueue,
        wardenQueue,
        policy: () => policy,
        configKey,
        internalKey,
        executorActions: new Set(Object.keys(operations)),
        host: LOCAL_HOST,
        retention,
        releases,
        secrets,
        secretKey,
        scope: config.scope,
        ...(services ? { definedEnvironment: (name: string) => definedEnvironment(services, name) } : {}),
        ...secretScopeSources,
      });
      const workers = startGateWorkers(
        config,
        { ...sinks, config, clock, docker, jobDataText, gate, policy: () => policy },
        {
          keyring,
          jobDataText,
          parked,
          ledger,
          runLog,
          alerts,
          actionsQueue,
          clock,
          logger,
          skewMs: config.clockSkewMs,
        },
      );
      for (const w of workers) cleanup.push(() => w.close());
    }
    if (config.workers.includes('executor')) {
      const leases = makeLeaseManager(redis, config.queuePrefix, config.leaseTtlMs);
      const intents = makeIntentStore(config.memoryDir);
      // Crash recovery (src/executor/recover.ts): an exec job that comes back after its worker died
      // is reconciled instead of run again; at start-up, so are intents whose exec job is gone or ended.
      const recovery = execBase ? makeRecovery(execBase) : null;
      const executor = startExecutorWorker(config, {
        internalKey,
        configKey,
        keyring,
        policy: () => policy,
        ledger,
        runLog,
        alerts,
        docker,
        leases,
        intents,
        operations,
        releases,
        secrets,
        secretKey,
        scope: config.scope,
        ...(services ? { definedEnvironment: (name: string) => definedEnvironment(services, name) } : {}),
        ...secretScopeSources,
        clock,
        logger,
        host: LOCAL_HOST,
        skewMs: config.clockSkewMs,
        leaseRetryMs: 250,
        timeoutMs: config.actionTimeoutMs,
        recovery,
        explainBadMac,
        ...(opts.onStepRecorded ? { onStepRecorded: opts.onStepRecorded } : {}),
      });
      cleanup.push(() => executor.close());
      const orphans = recoverOrphanedIntents({
        recovery,
        intents,
        execQueue,
        leases,
        runLog,
        alerts,
        internalKey,
        host: LOCAL_HOST,
        logger,
        clock,
        timeoutMs: config.actionTimeoutMs,
      });
      cleanup.push(() => orphans.stop());
    }

    const eventsConnection = makeBlockingConnection(config.redisUrl, `helm-events-${config.instance}`);
    const actionEvents = new QueueEvents(QUEUE.actions, {
      connection: eventsConnection,
      prefix: config.queuePrefix,
    });
    cleanup.push(async () => {
      await actionEvents.close();
      eventsConnection.disconnect();
    });
    const failures = watchBullmqFailures({ queue: actionsQueue, events: actionEvents, sinks, clock, logger });
    const swept = await failures.sweep();
    if (swept > 0) logger.warn({ swept }, 'wrote final results for jobs BullMQ failed while Helm was away');

    const heartbeat = startHeartbeat({
      redis,
      prefix: config.queuePrefix,
      instance: config.instance,
      host: config.host,
      version: HELM_VERSION,
      workers: config.workers.flatMap((w) => WORKER_QUEUES[w]),
      clock,
      logger,
      intervalMs: config.heartbeatIntervalMs,
    });
    cleanup.push(() => heartbeat.stop());

    if (config.workers.includes('monitor')) {
      const monitor = await startMonitor({
        // Dev auto-restart needs the executor's Docker surface; with a read-only Docker it restarts nothing.
        docker,
        events: makeDockerEvents(config.dockerHost),
        scope: config.scope,
        classification: policy.classify,
        // A disk above its threshold also asks the gate to prune what Helm made and no longer needs.
        alerts: withDiskCleanup(alerts, {
          docker,
          submit: async (request) => {
            await actionsQueue.add('prune', request, {
              removeOnComplete: retention,
              removeOnFail: retention,
            });
          },
          hostEnvironment: async () => {
            const host = await observeHost(docker, LOCAL_HOST, config.scope, policy.classify);
            return host.ok ? host.environment : 'production';
          },
          logger,
        }),
        runLog,
        clock,
        logger: logger.child({ worker: 'monitor' }),
        isIntended: makeIntendedCheck({
          intents: makeIntentStore(config.memoryDir),
          leaseHeld: makeLeaseProbe(redis, config.queuePrefix, LOCAL_HOST),
          clock,
        }),
        // A short lease of its own: an auto-restart that waits must not hold the executor's line.
        ...(opsDocker ? { leases: makeLeaseManager(redis, config.queuePrefix, 2_000) } : {}),
        host: config.host,
        memoryDir: config.memoryDir,
        hostRoot: config.hostRoot,
        // Health pings (a BullMQ job scheduler), the queue-backlog check and the report for doctor.
        bus: { redisUrl: config.redisUrl, prefix: config.queuePrefix },
        resources: {
          intervalMs: config.resourceIntervalMs,
          rules: {
            cpu: {
              ...DEFAULT_RESOURCE_RULES.cpu,
              threshold: config.thresholds.cpu,
              windowMs: config.resourceWindowMs,
            },
            memory: {
              ...DEFAULT_RESOURCE_RULES.memory,
              threshold: config.thresholds.memory,
              windowMs: config.resourceWindowMs,
            },
            disk: { ...DEFAULT_RESOURCE_RULES.disk, threshold: config.thresholds.disk },
          },
        },
      });
      cleanup.push(() => monitor.close());
    }

    const watch = startQueueWatch({
      queues: watchedQueues,
      redis,
      prefix: config.queuePrefix,
      clock,
      logger,
      alerts,
      intervalMs: config.queueWatchIntervalMs,
    });
    cleanup.push(() => watch.stop());

    await runLog
      .append({
        event: 'startup',
        message: `Helm ${HELM_VERSION} started (workers: ${config.workers.join(', ')}; scope: ${describeScope(config.scope)})`,
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
    return { config, logger, runLog, redactor, close, reloadWardenKeys: () => wardenKeys.reload('SIGHUP') };
  } catch (err) {
    await close();
    throw err;
  }
}

/** How many processes on one host may each write their own run-log file beside the first. */
const MAX_RUN_LOG_FILES = 16;

/**
 * One process writes one file. The first process takes its configured file; another process on the
 * same host and memory folder (its lock is held) writes its own chained file beside it, the first
 * free of run_log.<host>.2.md, .3, … so that a restarted process continues its own chain.
 * `helm log` merges them all by time.
 */
async function openOwnRunLog(
  config: Readonly<Config>,
  key: Buffer,
  clock: Clock,
  logger: Logger,
): Promise<RunLog> {
  const stem = config.runLogFileName.replace(/\.md$/, '');
  const host = config.host.replace(/[^A-Za-z0-9_.-]/g, '-');
  const names = [
    config.runLogFileName,
    ...Array.from({ length: MAX_RUN_LOG_FILES - 1 }, (_, i) => `${stem}.${host}.${i + 2}.md`),
  ];
  for (const fileName of names) {
    try {
      const log = await openRunLog({
        dir: config.memoryDir,
        fileName,
        key,
        clock,
        logger,
        rotateBytes: config.runLogRotateBytes,
        lockRefreshMs: config.heartbeatIntervalMs,
      });
      if (fileName !== config.runLogFileName) {
        logger.warn(
          { runLog: fileName },
          `${config.runLogFileName} is held by another Helm process; this one writes ${fileName}`,
        );
      }
      return log;
    } catch (err) {
      if (!(err instanceof RunLogLockedError)) throw err;
    }
  }
  throw new StartupError([
    `every run-log file in ${config.memoryDir} is held by another live Helm process (${names.length} tried)`,
  ]);
}

/** The Docker engine Helm runs against is host "local" in plans (CONTRACT.md: prune targets). */
export const LOCAL_HOST = 'local';

/** Start-up warnings: secrets the services file gives a service that their scopes do not allow there. */
function servicesSecretScopeProblems(file: ServicesFile, scopes: SecretScopes): string[] {
  return Object.entries(file.services)
    .flatMap(([service, spec]) =>
      definedSecrets(file, service).flatMap(
        (secret) => secretScopeProblem(scopes, secret, { service, environment: spec.environment }) ?? [],
      ),
    )
    .map((p) => `services file: ${p}; a first deploy of that service will be refused`);
}

/** The owner's services file (first releases); a file with problems stops start-up, as the policy does. */
async function loadOwnerServices(config: Readonly<Config>): Promise<ServicesFile | null> {
  if (!config.servicesFile) return null;
  const loaded = await loadServicesFile(config.servicesFile);
  if (!loaded.ok) throw new StartupError(loaded.problems);
  return loaded.file;
}

/** The design card's policy, tightened by the owner's file; a file that would loosen it stops start-up. */
async function loadPolicy(config: Readonly<Config>): Promise<Policy> {
  let policy = DEFAULT_POLICY;
  if (config.policyFile) {
    const loaded = await loadPolicyFile(config.policyFile);
    if (!loaded.ok)
      throw new StartupError(loaded.problems.map((p) => `HELM_POLICY_FILE ${config.policyFile}: ${p}`));
    policy = loaded.policy;
  }
  return config.approvalDeadlineS === null
    ? policy
    : { ...policy, approvalDeadlineS: config.approvalDeadlineS };
}
