// The monitor on the real engine and the test Redis, wired exactly as Helm wires it (see the report in
// workers/monitor.ts): the real AlertSender on sentinel.alerts, a real run log, the executor's intent
// store and lease for "Helm is changing this", its own scope label. A QueueEvents listener stamps
// the moment each alert reaches the queue, so tests can measure event-to-alert latency.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { makeAlertSender } from '../../../src/bus/alert-sender.js';
import { systemClock } from '../../../src/base/clock.js';
import { type Alert, AlertSchema } from '../../../src/contracts/index.js';
import { makeDockerEvents } from '../../../src/docker/dockerode-events.js';
import { makeDockerOps } from '../../../src/docker/dockerode-ops.js';
import { makeIntentStore } from '../../../src/intents/intent-store.js';
import { makeLeaseManager } from '../../../src/executor/lease.js';
import { Redactor } from '../../../src/log/redactor.js';
import type { WatcherRules } from '../../../src/monitor/event-watcher.js';
import { makeIntendedCheck } from '../../../src/monitor/intended.js';
import { makeLeaseProbe } from '../../../src/bus/lease-probe.js';
import { openRunLog, type RunLog } from '../../../src/runlog/index.js';
import { type Monitor, type MonitorDeps, startMonitor } from '../../../workers/monitor.js';
import { TEST_REDIS_URL } from '../../helpers/helm.js';
import { freshPrefix } from '../../helpers/queue-prefix.js';
import { readRunLogEntries } from '../../helpers/run-log.js';

export interface ReceivedAlert {
  alert: Alert;
  /** Date.now() when QueueEvents reported the job added to sentinel.alerts. */
  receivedAt: number;
}

export interface MonitorHarness {
  monitor: Monitor;
  prefix: string;
  memoryDir: string;
  /** Put a container in this monitor's scope. */
  scopeLabel: { 'ghost.scope': string };
  runLog: RunLog;
  received: ReceivedAlert[];
  /** Alerts about one target (service), in order. */
  alertsFor(target: string): Alert[];
  waitForAlert(what: string, pred: (a: Alert) => boolean, timeoutMs?: number): Promise<ReceivedAlert>;
  runLogEvents(target?: string): Promise<string[]>;
  close(): Promise<void>;
}

export const RUN_LOG_FILE = 'run_log.monitor.md';

export async function startMonitorHarness(
  opts: {
    prefix?: string;
    memoryDir?: string;
    scope?: string;
    rules?: Partial<WatcherRules>;
    dockerHost?: string;
    /** More of startMonitor's deps (bus, pings, logGrowth, …). */
    extra?: Partial<MonitorDeps> | ((ctx: { prefix: string; redisUrl: string }) => Partial<MonitorDeps>);
  } = {},
): Promise<MonitorHarness> {
  const prefix = opts.prefix ?? freshPrefix();
  const memoryDir = opts.memoryDir ?? (await mkdtemp(path.join(os.tmpdir(), 'helm-mon-')));
  const scope = opts.scope ?? `m-${randomBytes(4).toString('hex')}`;
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('sentinel.alerts', { connection: redis, prefix });
  const events = new QueueEvents('sentinel.alerts', { connection: redis.duplicate(), prefix });
  await events.waitUntilReady();
  const received: ReceivedAlert[] = [];
  events.on('added', ({ jobId }) => {
    const receivedAt = Date.now();
    void queue.getJob(jobId).then((job) => {
      if (!job) return;
      const strict = AlertSchema.safeParse(job.data);
      if (!strict.success)
        throw new Error(`alert breaks the contract: ${JSON.stringify(strict.error.issues)}`);
      received.push({ alert: strict.data, receivedAt });
    });
  });
  const logger = pino({ level: process.env['HELM_TEST_MONITOR_LOG'] ? 'debug' : 'silent' });
  const clock = systemClock;
  const alerts = makeAlertSender({
    queue,
    clock,
    redactor: new Redactor(),
    logger,
    retention: { age: 3600, count: 1000 },
  });
  const runLog = await openRunLog({ dir: memoryDir, fileName: RUN_LOG_FILE, key: randomBytes(32), clock });
  const docker = makeDockerOps(opts.dockerHost ?? process.env['DOCKER_HOST']);
  const monitor = await startMonitor({
    docker,
    events: makeDockerEvents(opts.dockerHost ?? process.env['DOCKER_HOST']),
    scope: { labels: [{ key: 'ghost.scope', value: scope }], allServices: false, composeProjects: [] },
    classification: [],
    alerts,
    runLog,
    clock,
    logger,
    isIntended: makeIntendedCheck({
      intents: makeIntentStore(memoryDir),
      leaseHeld: makeLeaseProbe(redis, prefix, 'test-host'),
      clock,
    }),
    leases: makeLeaseManager(redis, prefix, 2_000),
    host: 'test-host',
    memoryDir,
    resources: false,
    restartTimeoutS: 2,
    rules: { recoveryStableMs: 500, ...opts.rules },
    ...(typeof opts.extra === 'function' ? opts.extra({ prefix, redisUrl: TEST_REDIS_URL }) : opts.extra),
  });

  const alertsFor = (target: string) => received.filter((r) => r.alert.target === target).map((r) => r.alert);
  return {
    monitor,
    prefix,
    memoryDir,
    scopeLabel: { 'ghost.scope': scope },
    runLog,
    received,
    alertsFor,
    async waitForAlert(what, pred, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = received.find((r) => pred(r.alert));
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(
            `timed out waiting for ${what}; alerts so far: ${JSON.stringify(received.map((r) => [r.alert.kind, r.alert.target, r.alert.message]))}`,
          );
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async runLogEvents(target) {
      const entries = await readRunLogEntries(memoryDir, RUN_LOG_FILE);
      return entries.filter((e) => target === undefined || e.target === target).map((e) => e.event);
    },
    async close() {
      await monitor.close();
      await runLog.close();
      await events.close();
      await queue.close();
      redis.disconnect();
    },
  };
}
