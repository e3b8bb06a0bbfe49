// Section 5 (breakdown): the pieces a Helm request is made of, timed alone, sequentially, on the same
// machine: a run-log append (stat + write + fdatasync, HMAC chain) in a run log of its own beside
// Helm's, back to back as the appends of one request come (each waits for the head-record update the
// previous one left in the writer loop); that head-record replace alone (tmp write + fsync + rename);
// a bare 200-byte write + fdatasync on the same filesystem; the request_id reservation and record
// update (one Lua EVAL each); a progress update and an alert-sized job add on BullMQ with a real Helm
// result as payload; and a Redis PING for scale.
import { randomBytes, randomUUID } from 'node:crypto';
import { open, readdir, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { systemClock } from '../../src/base/clock.js';
import { makeRequestRecords } from '../../src/bus/request-records.js';
import { deriveRunLogKeys, signHead } from '../../src/runlog/chain.js';
import { writeHeadRecord } from '../../src/runlog/head-file.js';
import { openRunLog } from '../../src/runlog/index.js';
import { Budget, type Summary, summarize } from '../lib/stats.js';

export interface ComponentsResult {
  n: number;
  boundMs: number;
  bounded: boolean;
  resultJsonBytes: number;
  rows: Array<{ piece: string; ms: Summary }>;
}

const PIECES = 8;

export async function componentsSection(opts: {
  dir: string;
  redis: Redis;
  prefix: string;
  /** A final result Helm returned in section 1: the payload of the BullMQ pieces. */
  sampleResult: Record<string, unknown>;
  n: number;
  boundMs: number;
}): Promise<ComponentsResult> {
  const budget = new Budget(opts.boundMs);
  const rows: ComponentsResult['rows'] = [];
  let bounded = false;
  const measure = async (piece: string, fn: (i: number) => Promise<unknown>) => {
    const share = new Budget(budget.left() / Math.max(1, PIECES - rows.length));
    for (let i = 0; i < 5; i++) await fn(-1 - i);
    const xs: number[] = [];
    for (let i = 0; i < opts.n && !share.expired; i++) {
      const t0 = performance.now();
      await fn(i);
      xs.push(performance.now() - t0);
    }
    if (xs.length < opts.n) bounded = true;
    rows.push({ piece, ms: summarize(xs) });
  };

  const key = randomBytes(32);
  const runLog = await openRunLog({ dir: opts.dir, key, clock: systemClock });
  const entry = (i: number) => ({
    event: 'executed',
    job_id: String(i),
    request_id: null,
    action: 'health_check',
    target: 'bench-web',
    environment: 'dev',
    approval_id: null,
    code: null,
    message: 'bench-web is healthy (1/1 container: Docker health: healthy)',
  });
  try {
    await measure('run-log append, back to back', (i) => runLog.append(entry(i)));
  } finally {
    await runLog.close();
  }
  const keys = deriveRunLogKeys(key);
  const headLog = join(opts.dir, 'head-only.md');
  await measure('head record replace (tmp + fsync + rename)', (i) =>
    writeHeadRecord(headLog, signHead(keys, 'bench', { seq: Math.max(1, i), mac: 'a'.repeat(64) })),
  );

  const rawPath = join(opts.dir, 'fdatasync.bin');
  const fh = await open(rawPath, 'a');
  const line = Buffer.alloc(200, 0x61);
  try {
    await measure('bare 200 B write + fdatasync', async () => {
      await fh.write(line);
      await fh.datasync();
    });
  } finally {
    await fh.close();
  }

  const records = makeRequestRecords(opts.redis, opts.prefix, 3600);
  const tag = randomBytes(4).toString('hex');
  await measure('request_id reserve (Lua EVAL)', (i) =>
    records.reserve(`bench:${tag}:${i}`, 'h'.repeat(64), `job-${i}`),
  );
  await measure('request_id record update (Lua EVAL)', (i) =>
    records.updateResult(`bench:${tag}:${i}`, `job-${i}`, JSON.stringify(opts.sampleResult)),
  );

  const scratch = new Queue('bench.scratch', { connection: opts.redis, prefix: opts.prefix });
  try {
    const job = await scratch.add('scratch', {});
    await measure('BullMQ updateProgress (a Helm result)', () => job.updateProgress(opts.sampleResult));
    const retention = { age: 3600, count: 10_000 };
    await measure('BullMQ add of an action_result alert', () => {
      const id = randomUUID();
      return scratch.add(
        'action_result',
        {
          alert_id: id,
          at: new Date().toISOString(),
          severity: 'info',
          kind: 'action_result',
          message: 'health_check bench-web: executed: bench-web is healthy',
          details: { result: opts.sampleResult },
          dedup_key: `action_result:${id}`,
        },
        { jobId: id, removeOnComplete: retention, removeOnFail: retention },
      );
    });
  } finally {
    await scratch.close();
  }
  await measure('Redis PING', () => opts.redis.ping());
  return {
    n: opts.n,
    boundMs: opts.boundMs,
    bounded,
    resultJsonBytes: Buffer.byteLength(JSON.stringify(opts.sampleResult)),
    rows,
  };
}

/** Removes the files of a folder this bench made with mkdtemp, then the folder (not recursive). */
export async function removeOwnTempDir(dir: string): Promise<void> {
  for (const name of await readdir(dir)) await unlink(join(dir, name)).catch(() => {});
  await rmdir(dir).catch(() => {});
}
