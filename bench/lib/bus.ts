// The bus side of the bench: a Forge-like client (Queue + QueueEvents on its own connections), the
// raw BullMQ baseline worker, one round trip, one bulk burst, and the removal of a prefix's keys.
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { CpuMeter } from './cpu.js';
import { Budget, sleep } from './stats.js';

export const ACTIONS = 'helm.actions';

export interface BusClient {
  prefix: string;
  queue: Queue;
  events: QueueEvents;
  redis: Redis;
  close(): Promise<void>;
}

/** Same pattern for Helm and for the baseline: a Queue to add, a QueueEvents to wait on. */
export async function makeClient(redisUrl: string, prefix: string): Promise<BusClient> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: `bench-client-${prefix}` });
  const eventsConnection = new Redis(redisUrl, {
    maxRetriesPerRequest: null,
    connectionName: `bench-events-${prefix}`,
  });
  const queue = new Queue(ACTIONS, { connection: redis, prefix });
  const events = new QueueEvents(ACTIONS, { connection: eventsConnection, prefix });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  return {
    prefix,
    queue,
    events,
    redis,
    async close() {
      await events.close();
      await queue.close();
      eventsConnection.disconnect();
      redis.disconnect();
    },
  };
}

/**
 * The baseline: a Worker on the same queue name (own prefix), same Redis, same concurrency and
 * retention as Helm's gate worker, whose processor returns at once.
 */
export function startNoopWorker(
  redisUrl: string,
  prefix: string,
  concurrency: number,
  retention: { age: number; count: number },
): { close(): Promise<void> } {
  const connection = new Redis(redisUrl, {
    maxRetriesPerRequest: null,
    connectionName: `bench-noop-${prefix}`,
  });
  const worker = new Worker(ACTIONS, async () => ({ ok: true }), {
    connection,
    prefix,
    concurrency,
    removeOnComplete: retention,
    removeOnFail: retention,
  });
  worker.on('error', (err) => console.error(`baseline worker error: ${err.message}`));
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}

/** add → waitUntilFinished, timed on the client. */
export async function roundTrip(
  client: BusClient,
  data: Record<string, unknown>,
  ttlMs: number,
): Promise<{ ms: number; result: unknown }> {
  const t0 = performance.now();
  const job = await client.queue.add(String(data['action'] ?? 'x'), data);
  const result = await job.waitUntilFinished(client.events, ttlMs);
  return { ms: performance.now() - t0, result };
}

export interface BurstResult {
  added: number;
  completed: number;
  failed: number;
  ms: number;
  jobsPerS: number;
  /** The section's time bound ended the burst before every job finished. */
  bounded: boolean;
  /** How the end was seen: every completion event, or job counts (when events were missed). */
  seenBy: 'events' | 'counts';
  /**
   * CPU during the burst as % of one core (100 = one core busy): `self` is this whole process, the
   * others the services; `machine` is the busy share of all cores together (0–100).
   */
  cpuPct: Record<string, number>;
  returnValues: unknown[];
}

/**
 * addBulk of `count` jobs, timed until the last completion. Nothing else runs on the queue meanwhile,
 * so every completion seen after the add belongs to the burst. Job counts are polled as a fallback.
 */
export async function burst(
  client: BusClient,
  count: number,
  makeData: (i: number) => Record<string, unknown>,
  budget: Budget,
  cpu: CpuMeter,
): Promise<BurstResult> {
  let completed = 0;
  let failed = 0;
  let lastAt = 0;
  const returnValues: unknown[] = [];
  let resolveAll: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    resolveAll = resolve;
  });
  const onCompleted = ({ returnvalue }: { returnvalue: unknown }) => {
    completed++;
    lastAt = performance.now();
    returnValues.push(returnvalue);
    if (completed + failed >= count) resolveAll();
  };
  const onFailed = () => {
    failed++;
    lastAt = performance.now();
    if (completed + failed >= count) resolveAll();
  };
  client.events.on('completed', onCompleted);
  client.events.on('failed', onFailed);
  const jobs = Array.from({ length: count }, (_, i) => {
    const data = makeData(i);
    return { name: String(data['action'] ?? 'x'), data };
  });
  const t0 = performance.now();
  const cpu0 = cpu.sample();
  let seenBy: BurstResult['seenBy'] = 'events';
  let bounded = false;
  try {
    await client.queue.addBulk(jobs);
    let idlePolls = 0;
    for (;;) {
      const done = await Promise.race([all.then(() => true), sleep(500).then(() => false)]);
      if (done) break;
      if (budget.expired) {
        bounded = true;
        break;
      }
      const c = await client.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      const open = Object.values(c).reduce((a, b) => a + b, 0);
      idlePolls = open === 0 ? idlePolls + 1 : 0;
      if (idlePolls >= 2) {
        seenBy = 'counts';
        break;
      }
    }
  } finally {
    client.events.off('completed', onCompleted);
    client.events.off('failed', onFailed);
  }
  const end = bounded ? performance.now() : lastAt || performance.now();
  const ms = end - t0;
  const d = cpu.since(cpu0);
  const pct = (x: number) => Math.round((x / d.wallMs) * 100);
  const cpuPct: Record<string, number> = {
    self: pct(d.selfMs),
    ...Object.fromEntries(Object.entries(d.servicesMs).map(([k, v]) => [k, pct(v)])),
    machine: d.machineBusyPct,
  };
  if (bounded) {
    // Leave nothing running into the next section: drop what waits, let what is active finish.
    await client.queue.drain();
    const drainBudget = new Budget(5_000);
    while (!drainBudget.expired && (await client.queue.getActiveCount()) > 0) await sleep(200);
  }
  return {
    added: count,
    completed,
    failed,
    ms,
    jobsPerS: ((completed + failed) / ms) * 1000,
    bounded,
    seenBy,
    cpuPct,
    returnValues,
  };
}

/** Unlinks every key under `<prefix>:`; returns how many there were. */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) {
      n += keys.length;
      await redis.unlink(...keys);
    }
  } while (cursor !== '0');
  return n;
}
