import { randomUUID } from 'node:crypto';
import type { AlertSender } from '../src/bus/alert-sender.js';
import type { Clock } from '../src/base/clock.js';
import type { Scope } from '../src/config/config.js';
import type { DockerEvents, DockerOps, DockerReads } from '../src/docker/docker-ports.js';
import type { LeaseManager } from '../src/executor/lease.js';
import {
  type EventWatcher,
  type RestartOutcome,
  startEventWatcher,
  type WatcherLogger,
  type WatcherRules,
} from '../src/monitor/event-watcher.js';
import type { IsIntended } from '../src/monitor/intended.js';
import { type HealthPings, type PingRules, startHealthPings } from '../src/monitor/pings.js';
import { makeBlockingConnection, makeCommandConnection } from '../src/bus/redis-connection.js';
import type { RunningWorker } from '../src/bus/start-worker.js';
import { QUEUE } from '../src/bus/queue-names.js';
import { type ContainerStatsWatch, startContainerStats } from '../src/monitor/container-stats.js';
import { type LogGrowthRules, type LogGrowthWatch, startLogGrowthWatch } from '../src/monitor/log-growth.js';
import { type QueueBacklogWatch, startQueueBacklogWatch } from '../src/monitor/queue-backlog.js';
import { Queue } from 'bullmq';
import { type MonitorReport, startMonitorReport } from '../src/monitor/monitor-report.js';
import type { ResourceRules } from '../src/monitor/resource-rules.js';
import {
  defaultDiskPaths,
  makeHostMetricsSource,
  type MetricsSource,
  type ResourceMonitor,
  startResourceMonitor,
} from '../src/monitor/resources.js';
import type { ClassificationRule } from '../src/policy/environment-of.js';
import type { RunLog } from '../src/runlog/index.js';
import { startPingsWorker } from './pings.js';

/**
 * The monitor: Docker events → downtime/unhealthy/recovered alerts within a second, owner stops as
 * info, Helm's own changes silent, dev crashes restarted with backoff up to a crash loop; host
 * CPU/memory/disk with hysteresis. Everything it decides is in the run log; every alert goes to
 * sentinel.alerts through `alerts`.
 */
export interface MonitorDeps {
  /** Reads, plus the one mutation the monitor may make (restartContainer: dev auto-restart). */
  docker: Pick<DockerReads, 'listContainers' | 'inspectContainer' | 'inspectImage' | 'info'> &
    Partial<Pick<DockerOps, 'restartContainer'>>;
  /** makeDockerEvents(config.dockerHost). */
  events: Pick<DockerEvents, 'subscribeContainerEvents'> &
    Partial<Pick<DockerEvents, 'streamContainerStats'>>;
  scope: Scope;
  /** policy.classify (the owner's name → environment rules). */
  classification: readonly ClassificationRule[];
  alerts: Pick<AlertSender, 'send'>;
  runLog: Pick<RunLog, 'append'>;
  clock: Clock;
  logger: WatcherLogger;
  /** makeIntendedCheck({ intents, leaseHeld: makeLeaseProbe(redis, prefix), clock }). */
  isIntended: IsIntended;
  /**
   * The executor's lease manager, with a short TTL (e.g. makeLeaseManager(redis, prefix, 2000)): an
   * auto-restart holds the service's lease, so it never runs beside an operation on that service.
   * Without it (or without docker.restartContainer) the monitor never restarts anything.
   */
  leases?: LeaseManager;
  /** The host's name, in dedup keys and messages (config.host). */
  host: string;
  /** Helm's memory folder: its filesystem is watched. */
  memoryDir: string;
  /** Where the host's root is mounted: `/` normally, `/host` when Helm runs in a container. @defaultValue '/' */
  hostRoot?: string;
  rules?: Partial<WatcherRules>;
  /** false: no resource sampling. */
  resources?:
    | false
    | {
        rules?: Partial<ResourceRules>;
        /** @defaultValue 15_000 */
        intervalMs?: number;
        diskCriticalPercent?: number;
        /** Default: systeminformation + statfs on the host. */
        source?: MetricsSource;
      };
  /** Seconds Docker waits before SIGKILL when restarting. @defaultValue 10 */
  restartTimeoutS?: number;
  /**
   * Helm's Redis (config.redisUrl) and queue prefix (config.queuePrefix): the health pings' private
   * queue `helm.pings` and the helm.actions backlog watch need them. Without it neither runs.
   */
  bus?: { redisUrl: string; prefix: string };
  /** Health pings of `ghost.healthcheck` labels (needs `bus`); false: none. */
  pings?: false | Partial<PingRules>;
  /** Unlimited json-file logs grown large (log_growth); false: not checked. */
  logGrowth?: false | Partial<LogGrowthRules>;
  /** helm_degraded when helm.actions' backlog keeps growing (needs `bus`); false: not watched. */
  queueBacklog?: false | { intervalMs?: number };
  /**
   * Per-container CPU and memory through Docker's stats streams (needs events.streamContainerStats);
   * the rules default to the host's (resources.rules); false: not streamed.
   */
  containerStats?: false | { rules?: Partial<Pick<ResourceRules, 'cpu' | 'memory'>>; syncMs?: number };
  /**
   * How often the monitor's report (container CPU/memory, ping verdicts, queue state) is written to
   * Redis at monitorReportKey(prefix, host) for doctor and the status page (needs `bus`).
   * @defaultValue 15_000
   */
  reportIntervalMs?: number;
}

export interface Monitor {
  watcher: EventWatcher;
  resources: ResourceMonitor | null;
  pings: HealthPings | null;
  logGrowth: LogGrowthWatch | null;
  queueBacklog: QueueBacklogWatch | null;
  /** `containerStats.latest()`: each managed container's CPU % and memory % (doctor, status page). */
  containerStats: ContainerStatsWatch | null;
  /** Writes the report to Redis now (null without `bus`). */
  publishReport: (() => Promise<MonitorReport>) | null;
  close(): Promise<void>;
}

/**
 * The monitor's steps, in order: the event watcher (and its first reconcile), host resources, health
 * pings and their worker, log growth, the helm.actions backlog, per-container stats, the report for
 * doctor. Each is optional but the watcher; close() stops them in reverse.
 */
export async function startMonitor(deps: MonitorDeps): Promise<Monitor> {
  const redis = redisConnections(deps);
  const watcher = startEventWatcher({
    events: deps.events,
    docker: deps.docker,
    scope: deps.scope,
    classification: deps.classification,
    isIntended: deps.isIntended,
    alerts: deps.alerts,
    runLog: deps.runLog,
    clock: deps.clock,
    logger: deps.logger,
    restartContainer: guardedRestart(deps),
    host: deps.host,
    ...(deps.rules ? { rules: deps.rules } : {}),
  });
  await watcher.ready;
  const resources = await startResources(deps);
  const pings = await startPings(deps, watcher, redis);
  const logGrowth = startLogGrowth(deps);
  const backlog = startBacklog(deps, redis);
  const containerStats = startStats(deps, watcher);
  const queueBacklog = backlog?.watch ?? null;
  const report = startReport(deps, redis, () => ({
    containers: containerStats?.latest() ?? [],
    pings: pings ? [...pings.pings.states()].map(([id, s]) => ({ id, ...s })) : [],
    queues: queueBacklog ? { actions: queueBacklog.phase() } : null,
  }));

  return {
    watcher,
    resources,
    pings: pings?.pings ?? null,
    logGrowth,
    queueBacklog,
    containerStats,
    publishReport: report ? report.publishNow : null,
    async close() {
      report?.close();
      resources?.close();
      logGrowth?.close();
      queueBacklog?.close();
      containerStats?.close();
      await backlog?.queue.close().catch(() => undefined);
      await pings?.pings
        .close()
        .catch((err) => deps.logger.warn({ err }, 'monitor: closing the pings failed'));
      await pings?.worker
        .close()
        .catch((err) => deps.logger.warn({ err }, 'monitor: closing the pings failed'));
      await watcher.close();
      redis.disconnectAll();
    },
  };
}

interface RedisConnections {
  command(name: string): ReturnType<typeof makeCommandConnection>;
  blocking(name: string): ReturnType<typeof makeBlockingConnection>;
  disconnectAll(): void;
}

/** The monitor's own Redis connections (named per host), all disconnected when it closes. */
function redisConnections(deps: MonitorDeps): RedisConnections {
  const opened: Array<{ disconnect(): void }> = [];
  const url = deps.bus?.redisUrl ?? '';
  return {
    command(name) {
      const c = makeCommandConnection(url, `${name}-${deps.host}`);
      opened.push(c);
      return c;
    },
    blocking(name) {
      const c = makeBlockingConnection(url, `${name}-${deps.host}`);
      opened.push(c);
      return c;
    },
    disconnectAll() {
      for (const c of opened) c.disconnect();
    },
  };
}

/**
 * Dev auto-restart, under the service's lease so that it never runs beside an operation; null with a
 * read-only Docker or without leases (the monitor then restarts nothing).
 */
function guardedRestart(
  deps: MonitorDeps,
): ((id: string, service: string) => Promise<RestartOutcome>) | null {
  const restart = deps.docker.restartContainer?.bind(deps.docker);
  const leases = deps.leases;
  if (!restart || !leases) return null;
  return async (id, service) => {
    const lease = await leases.tryAcquire(`${deps.host}/${service}`, `monitor-${randomUUID()}`);
    if (!lease) return 'busy';
    try {
      // Looked at again under the lease: a container that runs now is left alone.
      const info = await deps.docker.inspectContainer(id);
      if (info.State.Running || info.State.Restarting) return 'running';
      await lease.check();
      await restart(id, deps.restartTimeoutS ?? 10);
      return 'restarted';
    } finally {
      await lease.release().catch(() => undefined);
    }
  };
}

/** Host CPU, memory and disk (Helm's memory folder and Docker's root among the disks). */
async function startResources(deps: MonitorDeps): Promise<ResourceMonitor | null> {
  if (deps.resources === false) return null;
  const opts = deps.resources ?? {};
  let source = opts.source;
  if (!source) {
    const dockerRootDir = await deps.docker
      .info()
      .then((i) => i.dockerRootDir)
      .catch(() => '/var/lib/docker');
    source = makeHostMetricsSource(
      defaultDiskPaths({ hostRoot: deps.hostRoot ?? '/', dockerRootDir, memoryDir: deps.memoryDir }),
    );
  }
  return startResourceMonitor({
    source,
    clock: deps.clock,
    alerts: deps.alerts,
    runLog: deps.runLog,
    logger: deps.logger,
    host: deps.host,
    ...(opts.rules ? { rules: opts.rules } : {}),
    ...(opts.intervalMs !== undefined ? { intervalMs: opts.intervalMs } : {}),
    ...(opts.diskCriticalPercent !== undefined ? { diskCriticalPercent: opts.diskCriticalPercent } : {}),
  });
}

/** The pings' schedulers (src/monitor/pings.ts) and the worker that runs them (workers/pings.ts). */
async function startPings(
  deps: MonitorDeps,
  watcher: EventWatcher,
  redis: RedisConnections,
): Promise<{ pings: HealthPings; worker: RunningWorker } | null> {
  if (!deps.bus || deps.pings === false) return null;
  const connection = redis.command('helm-pings');
  const blockingConnection = redis.blocking('helm-pings-w');
  const pings = await startHealthPings({
    connection,
    prefix: deps.bus.prefix,
    host: deps.host,
    docker: deps.docker,
    watcher,
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.pings ? { rules: deps.pings } : {}),
  });
  const worker = startPingsWorker({
    blockingConnection,
    prefix: deps.bus.prefix,
    host: deps.host,
    pings,
    logger: deps.logger,
  });
  return { pings, worker };
}

function startLogGrowth(deps: MonitorDeps): LogGrowthWatch | null {
  if (deps.logGrowth === false) return null;
  return startLogGrowthWatch({
    docker: deps.docker,
    scope: deps.scope,
    alerts: deps.alerts,
    runLog: deps.runLog,
    clock: deps.clock,
    logger: deps.logger,
    host: deps.host,
    hostRoot: deps.hostRoot ?? '/',
    ...(deps.logGrowth ? { rules: deps.logGrowth } : {}),
  });
}

/** helm.actions' backlog (helm_degraded when it keeps growing), through a Queue of the monitor's own. */
function startBacklog(
  deps: MonitorDeps,
  redis: RedisConnections,
): { watch: QueueBacklogWatch; queue: Queue } | null {
  if (!deps.bus || deps.queueBacklog === false) return null;
  const connection = redis.command('helm-monitor-queues');
  const queue = new Queue(QUEUE.actions, { connection, prefix: deps.bus.prefix });
  const watch = startQueueBacklogWatch({
    queue,
    alerts: deps.alerts,
    runLog: deps.runLog,
    clock: deps.clock,
    logger: deps.logger,
    host: deps.host,
    ...(deps.queueBacklog?.intervalMs !== undefined ? { intervalMs: deps.queueBacklog.intervalMs } : {}),
  });
  return { watch, queue };
}

/** Per-container CPU and memory through Docker's stats streams; the rules default to the host's. */
function startStats(deps: MonitorDeps, watcher: EventWatcher): ContainerStatsWatch | null {
  const streamStats = deps.events.streamContainerStats?.bind(deps.events);
  if (deps.containerStats === false || !streamStats) return null;
  const hostRules = deps.resources ? deps.resources.rules : undefined;
  const own = deps.containerStats ? deps.containerStats.rules : undefined;
  const cpu = own?.cpu ?? hostRules?.cpu;
  const memory = own?.memory ?? hostRules?.memory;
  return startContainerStats({
    events: { streamContainerStats: streamStats },
    docker: deps.docker,
    watcher,
    alerts: deps.alerts,
    runLog: deps.runLog,
    clock: deps.clock,
    logger: deps.logger,
    host: deps.host,
    rules: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) },
    ...(deps.containerStats?.syncMs !== undefined ? { syncMs: deps.containerStats.syncMs } : {}),
  });
}

/** The monitor's report in Redis for doctor and the status page (needs `bus`). */
function startReport(
  deps: MonitorDeps,
  redis: RedisConnections,
  read: Parameters<typeof startMonitorReport>[0]['read'],
): ReturnType<typeof startMonitorReport> | null {
  if (!deps.bus) return null;
  return startMonitorReport({
    redis: redis.command('helm-monitor-report'),
    prefix: deps.bus.prefix,
    host: deps.host,
    clock: deps.clock,
    logger: deps.logger,
    ...(deps.reportIntervalMs !== undefined ? { intervalMs: deps.reportIntervalMs } : {}),
    read,
  });
}
