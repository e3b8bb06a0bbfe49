// Starts a Helm of a test's own, in-process: its own queue prefix, memory folder and scope, short
// intervals, and a log sink the test can read. Also a bus client that acts as Forge and Sentinel.
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { type Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { ActionResultSchema, AlertSchema } from '../../src/contracts/index.js';
import { type Helm, type HelmOptions, startHelm } from '../../src/helm.js';
import { DEFAULT_TEST_REDIS_URL } from './global-setup.js';
import { freshPrefix } from './queue-prefix.js';

export const TEST_REDIS_URL = process.env['HELM_TEST_REDIS_URL'] ?? DEFAULT_TEST_REDIS_URL;

export interface TestHelm {
  helm: Helm;
  prefix: string;
  memoryDir: string;
  /** The label pair (ghost.scope=<uniq>) that puts a container in this Helm's scope. */
  scopeLabel: { 'ghost.scope': string };
  /** Every JSON log line Helm wrote. */
  logLines: string[];
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startTestHelm(
  env: Record<string, string> = {},
  opts: HelmOptions & { prefix?: string; memoryDir?: string } = {},
): Promise<TestHelm> {
  const prefix = opts.prefix ?? freshPrefix();
  const memoryDir = opts.memoryDir ?? (await mkdtemp(path.join(os.tmpdir(), 'helm-mem-')));
  const scope = `s-${randomBytes(4).toString('hex')}`;
  const fullEnv = {
    REDIS_URL: TEST_REDIS_URL,
    HELM_QUEUE_PREFIX: prefix,
    HELM_MEMORY_DIR: memoryDir,
    HELM_SCOPE_LABELS: `ghost.scope=${scope}`,
    HELM_INSTANCE: `test-${scope}`,
    LOG_LEVEL: 'debug',
    HELM_HEARTBEAT_INTERVAL_MS: '500',
    HELM_QUEUE_WATCH_INTERVAL_MS: '500',
    // The advisor is off unless a test is about it (test/integration/advisor/): no model server here.
    HELM_ADVISOR: 'off',
    // The HTTP server too (tests run at once would share one port): a test about it sets
    // HELM_HTTP_ADDR=127.0.0.1:0 and reads the port chosen from helm.http.
    HELM_HTTP_ADDR: 'off',
    ...env,
  };
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logLines.push(line);
      cb();
    },
  });
  const helm = await startHelm(loadConfig(fullEnv), { ...opts, logDestination: sink });
  return {
    helm,
    prefix,
    memoryDir,
    scopeLabel: { 'ghost.scope': scope },
    logLines,
    env: fullEnv,
    close: () => helm.close(),
  };
}

/** The other agents' side of the bus: adds requests like Forge, reads alerts like Sentinel. */
export interface BusClient {
  actions: Queue;
  events: QueueEvents;
  alerts: Queue;
  redis: Redis;
  send(data: unknown, opts?: Parameters<Queue['add']>[2]): Promise<Job>;
  /** Adds the request and waits for its final result (the job's return value). */
  request(data: unknown, opts?: Parameters<Queue['add']>[2]): Promise<Record<string, unknown> & { job: Job }>;
  alertsSent(): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function busClient(
  prefix: string,
  redisUrl = TEST_REDIS_URL,
  eventsMaxLen = 10_000,
): Promise<BusClient> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // The events-stream bound is a bus setting: every agent's queues must use the same one.
  const streams = { events: { maxLen: eventsMaxLen } };
  const actions = new Queue('helm.actions', { connection: redis, prefix, streams });
  const alerts = new Queue('sentinel.alerts', { connection: redis, prefix, streams });
  const events = new QueueEvents('helm.actions', { connection: redis.duplicate(), prefix });
  await events.waitUntilReady();
  const send = (data: unknown, opts?: Parameters<Queue['add']>[2]) =>
    actions.add(String((data as { action?: unknown })?.action ?? 'x'), data, opts);
  return {
    actions,
    events,
    alerts,
    redis,
    send,
    async request(data, opts) {
      const job = await send(data, opts);
      const result = (await job.waitUntilFinished(events, 60_000)) as Record<string, unknown>;
      // Every result Helm returns must hold to the contract's strict schema, whatever the test checks.
      const strict = ActionResultSchema.safeParse(result);
      if (!strict.success)
        throw new Error(`result breaks the contract: ${JSON.stringify(strict.error.issues)}`);
      return { ...result, job };
    },
    async alertsSent() {
      const jobs = await alerts.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'], 0, -1, true);
      return jobs.map((j) => {
        const strict = AlertSchema.safeParse(j.data);
        if (!strict.success)
          throw new Error(`alert breaks the contract: ${JSON.stringify(strict.error.issues)}`);
        return j.data as Record<string, unknown>;
      });
    },
    async close() {
      await events.close();
      await actions.close();
      await alerts.close();
      redis.disconnect();
    },
  };
}

/** A request the way the design card writes it, with a field or two changed. */
export function cardRequest(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'health_check',
    target: 'openclaw-gateway',
    environment: 'production',
    reason: 'routine check',
    ...over,
  };
}
