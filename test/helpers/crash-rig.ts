// A rig for crash and restart tests: a throwaway redis-server of the test's own (AOF), a memory folder
// that outlives every Helm process, Helm itself as real child processes started one after another on
// both (kill -9 / start again), the other agents' side of the bus, and counters of what Docker
// actually did to a container (its events), so a test can tell "executed once" from "executed twice".
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FlowProducer, type Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import {
  AlertSchema,
  type ApprovalRequest,
  ApprovalRequestSchema,
  heartbeatKeys,
} from '../../src/contracts/index.js';
import { execQueueName } from '../../src/bus/queue-names.js';
import { deriveKey, loadOrCreateHelmKey } from '../../src/keys/helm-key.js';
import { parseEntryLine, type RunLogEntry, verifyRunLogChains } from '../../src/runlog/index.js';
import { waitFor } from './containers.js';
import { testDocker } from './docker.js';
import { type HelmProcess, spawnHelm, spawnHelmInPidNamespace } from './helm-process.js';
import { freshPrefix } from './queue-prefix.js';
import { startThrowawayRedis, type ThrowawayRedis, type ThrowawayRedisOptions } from './redis-server.js';

export interface CrashRig {
  redis: ThrowawayRedis;
  prefix: string;
  memoryDir: string;
  /** Put on a container (labels) to bring it into this rig's Helm scope. */
  scopeLabel: { 'ghost.scope': string };
  bus: RigBus;
  /** The Helms' host id: their exec queue and lease keys name it. */
  host: string;
  approvals: Queue;
  wardenRequests: Queue;
  exec: Queue;
  flows: FlowProducer;
  /** The Helm process started last, if it still runs. */
  helm(): RigHelm | undefined;
  /**
   * Spawns a new Helm process (a new instance name, also its BullMQ worker name) and resolves once
   * its heartbeat is in Redis. Earlier processes keep running unless killed.
   */
  startHelm(extraEnv?: Record<string, string>): Promise<RigHelm>;
  /** kill -9 of the Helm process started last (or of the one given). */
  kill9Helm(p?: RigHelm): Promise<void>;
  /** Every run-log entry in the memory folder (all files: a new process may write its own). */
  runLog(): Promise<RunLogEntry[]>;
  /** The ApprovalRequest Helm sent to warden.requests under this approval_id. */
  approvalRequest(approvalId: string): Promise<ApprovalRequest>;
  close(): Promise<void>;
}

export type RigHelm = HelmProcess & { instance: string };

export async function startCrashRig(opts: {
  wardenPublicPem: string;
  redis?: ThrowawayRedisOptions;
  env?: Record<string, string>;
  /** Each Helm as pid 1 of its own pid namespace, as in a container (see spawnHelmInPidNamespace). */
  pidNamespace?: boolean;
}): Promise<CrashRig> {
  const redis = await startThrowawayRedis({ aof: true, ...opts.redis });
  const prefix = freshPrefix();
  const memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-crash-'));
  const scope = `c-${randomBytes(4).toString('hex')}`;
  const bus = rigBus(prefix, redis.url);
  const approvals = new Queue('helm.approvals', { connection: bus.redis, prefix });
  const wardenRequests = new Queue('warden.requests', { connection: bus.redis, prefix });
  // The spawned Helms' host id (HELM_HOST_ID, default the hostname) names their exec queue.
  const host = opts.env?.['HELM_HOST_ID'] ?? os.hostname();
  const exec = new Queue(execQueueName(host), { connection: bus.redis, prefix });
  const flows = new FlowProducer({ connection: bus.redis, prefix });
  const procs: RigHelm[] = [];
  let n = 0;
  const spawnOne = (env: Record<string, string>, entry?: string) =>
    opts.pidNamespace ? spawnHelmInPidNamespace(env, entry) : spawnHelm(env, undefined, entry);
  const alive = (p: HelmProcess) => p.child.exitCode === null && p.child.signalCode === null;

  const rig: CrashRig = {
    redis,
    prefix,
    memoryDir,
    scopeLabel: { 'ghost.scope': scope },
    host,
    bus,
    approvals,
    wardenRequests,
    exec,
    flows,
    helm: () => {
      const last = procs.at(-1);
      return last && alive(last) ? last : undefined;
    },
    async startHelm(extraEnv = {}) {
      n += 1;
      const instance = `crash-${scope}-${n}`;
      const env = { ...opts.env, ...extraEnv };
      // A crash point asks for Helm with the fault hook installed (helm-crash-entry.ts).
      const entry = env['HELM_TEST_CRASH_AT_STEP'] ? 'test/helpers/helm-crash-entry.ts' : undefined;
      const p: RigHelm = Object.assign(
        spawnOne(
          {
            REDIS_URL: redis.url,
            HELM_QUEUE_PREFIX: prefix,
            HELM_MEMORY_DIR: memoryDir,
            HELM_INSTANCE: instance,
            HELM_WARDEN_PUBLIC_KEY: opts.wardenPublicPem,
            HELM_SCOPE_LABELS: `ghost.scope=${scope}`,
            HELM_STABILITY_WINDOW_S: '1',
            HELM_HEALTH_TIMEOUT_S: '20',
            HELM_LOCK_DURATION_MS: '2000',
            HELM_STALLED_INTERVAL_MS: '1000',
            HELM_HEARTBEAT_INTERVAL_MS: '300',
            LOG_LEVEL: 'warn',
            ...env,
          },
          entry,
        ),
        { instance },
      );
      procs.push(p);
      await waitFor(
        async () => {
          if (p.child.exitCode !== null || p.child.signalCode !== null)
            throw new Error(`Helm exited (${p.child.exitCode ?? p.child.signalCode}):\n${p.output()}`);
          return (
            redis.pid() !== undefined && (await bus.redis.exists(heartbeatKeys(prefix, instance).instance))
          );
        },
        `Helm process ${instance} to beat`,
        // A hang guard only: a cold start under tsx takes 3 s on a quiet machine, over 30 s at load 20+.
        90_000,
      ).catch((e) => {
        throw new Error(`${e}
${p.output()}`);
      });
      return p;
    },
    async kill9Helm(p) {
      await (p ?? procs.at(-1))?.kill9();
    },
    runLog: () => readAllRunLogs(memoryDir),
    async approvalRequest(approvalId) {
      const job = await waitFor(
        async () => wardenRequests.getJob(approvalId),
        `the approval request ${approvalId}`,
      );
      return ApprovalRequestSchema.parse(job.data);
    },
    /** Kills every Helm process, closes the clients, destroys the Redis and removes the memory folder. */
    async close() {
      try {
        for (const p of procs) await p.kill9().catch(() => undefined);
        await flows.close().catch(() => undefined);
        for (const q of [approvals, wardenRequests, exec]) await q.close().catch(() => undefined);
        await bus.close().catch(() => undefined);
      } finally {
        // Whatever failed above, the server and the folder go: no redis-server is left behind.
        await redis.destroy();
        await rm(memoryDir, { recursive: true, force: true });
      }
    },
  };
  return rig;
}

/**
 * Forge's and Sentinel's side of the bus, on one connection the rig owns (no QueueEvents: results
 * are read from the jobs, which works across Redis restarts).
 */
export interface RigBus {
  redis: Redis;
  actions: Queue;
  alerts: Queue;
  send(data: unknown, opts?: Parameters<Queue['add']>[2]): Promise<Job>;
  /** Every alert on sentinel.alerts, each checked against the contract's schema. */
  alertsSent(): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

function rigBus(prefix: string, redisUrl: string): RigBus {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  // The tests restart and kill this Redis on purpose: reconnect errors are expected, not news.
  redis.on('error', () => undefined);
  const streams = { events: { maxLen: 10_000 } };
  const actions = new Queue('helm.actions', { connection: redis, prefix, streams });
  const alerts = new Queue('sentinel.alerts', { connection: redis, prefix, streams });
  return {
    redis,
    actions,
    alerts,
    send: (data, opts) => actions.add(String((data as { action?: unknown })?.action ?? 'x'), data, opts),
    async alertsSent() {
      const jobs = await alerts.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'], 0, -1, true);
      return jobs.map((j) => AlertSchema.parse(j.data) as Record<string, unknown>);
    },
    async close() {
      await actions.close();
      await alerts.close();
      redis.disconnect();
    },
  };
}

/** Entries of every run-log file in a memory folder, in time order (seq breaks ties within a file). */
export async function readAllRunLogs(memoryDir: string): Promise<RunLogEntry[]> {
  const files = (await readdir(memoryDir)).filter((f) => /^run_log.*\.md$/.test(f));
  const entries: RunLogEntry[] = [];
  for (const f of files) {
    const text = await readFile(path.join(memoryDir, f), 'utf8');
    for (const line of text.split('\n')) {
      const parsed = parseEntryLine(line);
      if (parsed.ok) entries.push(parsed.entry);
    }
  }
  return entries.sort((a, b) => a.at.localeCompare(b.at) || a.seq - b.seq);
}

/**
 * Short intervals: a dead process's job lock (4 s), stalled check (1 s) and service lease (4 s). Not
 * shorter: under load 70 on two cores a live recovery missed a 2 s lease renewal and stopped.
 */
export const SHORT_CRASH_INTERVALS = {
  HELM_LOCK_DURATION_MS: '4000',
  HELM_STALLED_INTERVAL_MS: '1000',
  HELM_LEASE_TTL_MS: '4000',
  HELM_STABILITY_WINDOW_S: '1',
  HELM_HEALTH_TIMEOUT_S: '20',
};

/** A request's final result, read from Redis (works across Helm and Redis restarts). */
export interface RigResult {
  status: string;
  outcome: string;
  error?: { code: string; message: string };
  release?: { id: string } | null;
}

export async function finalResultOf(r: CrashRig, jobId: string, timeoutMs = 60_000): Promise<RigResult> {
  return waitFor(
    async () => {
      const job = await r.bus.actions.getJob(jobId).catch(() => undefined);
      const state = await job?.getState().catch(() => undefined);
      if (state === 'failed') throw new Error(`job ${jobId} failed in BullMQ: ${job?.failedReason}`);
      return state === 'completed' ? (job!.returnvalue as RigResult) : null;
    },
    `the final result of job ${jobId}`,
    timeoutMs,
  );
}

/** The write-ahead intents on disk in a memory folder (none once every operation ended or was recovered). */
export async function intentFiles(memoryDir: string): Promise<Array<{ op: string; step: string }>> {
  const dir = path.join(memoryDir, 'intents');
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => n.endsWith('.json'));
  return Promise.all(
    names.map(
      async (n) => JSON.parse(await readFile(path.join(dir, n), 'utf8')) as { op: string; step: string },
    ),
  );
}

/** What is wrong with the run log of a memory folder, every chain verified as `helm doctor` does; [] when it verifies. */
export async function runLogProblems(memoryDir: string): Promise<string[]> {
  const key = deriveKey(await loadOrCreateHelmKey(memoryDir), 'run-log');
  const chains = await verifyRunLogChains(memoryDir, key);
  if (chains.length === 0) return ['no run log'];
  return chains.flatMap((c) => c.problems.map((p) => `${p.file}:${p.line} ${p.reason}`));
}

/** What Docker did to some containers since the watch began, from the engine's event stream. */
export interface DockerWatch {
  /** How many times the container emitted this action (start, die, stop, kill, restart…). */
  count(containerId: string, action: string): number;
  actions(containerId: string): string[];
  /** Waits until the stream has delivered everything up to now (an event of a marker is not needed: a pause). */
  settle(ms?: number): Promise<void>;
  stop(): void;
}

export async function watchDocker(containerIds: string[]): Promise<DockerWatch> {
  const seen = new Map<string, string[]>(containerIds.map((id) => [id, []]));
  const stream = (await testDocker().getEvents({
    filters: { type: ['container'], container: containerIds },
  })) as unknown as NodeJS.ReadableStream & { destroy(): void };
  let buffered = '';
  stream.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('utf8');
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
      if (!line) continue;
      const e = JSON.parse(line) as { Action?: string; Actor?: { ID?: string } };
      const id = e.Actor?.ID;
      // exec_create/exec_start of health checks and the like are not changes.
      if (id && e.Action && !e.Action.startsWith('exec_') && !e.Action.startsWith('health_status'))
        seen.get(id)?.push(e.Action);
    }
  });
  stream.on('error', () => undefined);
  return {
    count: (id, action) => (seen.get(id) ?? []).filter((a) => a === action).length,
    actions: (id) => [...(seen.get(id) ?? [])],
    settle: (ms = 700) => new Promise((r) => setTimeout(r, ms)),
    stop: () => stream.destroy(),
  };
}
