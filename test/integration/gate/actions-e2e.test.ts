// scale, remove and set_env through the bus, with a test Warden: a production remove (with its volume,
// archived) and a scale-down in dev park for Warden and change nothing until approved, then run; a
// set_env in staging runs at once. A set_env that references a secret leaves its canary value in no
// sink: results and progress, alerts, the run log, Helm's log lines, every Redis key and value, the
// Redis AOF on disk, and every file in Helm's memory folder.
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApprovalRequestSchema } from '../../../src/contracts/index.js';
import { removeTestContainers, testDocker, testLabels } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../../helpers/redis-server.js';
import { makeTestWarden, waitForStatus } from '../../helpers/warden.js';
import { removeReleaseTags, startServiceContainer } from '../executor/exec-harness.js';
import { removeVolumes, runningOf, startVolumeService, volumeExists } from '../executor/volume-service.js';

const CANARY = `canary-e2e-${Math.random().toString(36).slice(2)}-value`;
const warden = makeTestWarden();
let redis: ThrowawayRedis;
let h: TestHelm;
let bus: BusClient;
let approvals: Queue;
let wardenRequests: Queue;
let secretsDir: string;
const services: string[] = [];
const volumes: string[] = [];
const results: unknown[] = [];
const named = (stem: string) => {
  const n = uniqueName(stem);
  services.push(n);
  return n;
};

beforeAll(async () => {
  redis = await startThrowawayRedis({ aof: true });
  secretsDir = mkdtempSync(path.join(os.tmpdir(), 'helm-secrets-'));
  chmodSync(secretsDir, 0o700);
  writeFileSync(path.join(secretsDir, 'api-token'), `${CANARY}\n`, { mode: 0o600 });
  // Where each secret may go (secrets/secret-scopes.ts): without this, every reference is denied.
  writeFileSync(
    path.join(secretsDir, '.scopes.yaml'),
    'secrets:\n  api-token: { environments: [staging] }\n  db-pass: { environments: [production] }\n',
  );
  h = await startTestHelm({
    REDIS_URL: redis.url,
    HELM_WARDEN_PUBLIC_KEY: warden.publicPem,
    HELM_SECRETS_DIR: secretsDir,
    HELM_STABILITY_WINDOW_S: '1',
    HELM_HEALTH_TIMEOUT_S: '15',
  });
  bus = await busClient(h.prefix, redis.url);
  approvals = new Queue('helm.approvals', { connection: bus.redis, prefix: h.prefix });
  wardenRequests = new Queue('warden.requests', { connection: bus.redis, prefix: h.prefix });
}, 60_000);

afterAll(async () => {
  await approvals?.close();
  await wardenRequests?.close();
  await bus?.close();
  await h?.close();
  await removeTestContainers();
  await removeReleaseTags(services);
  await removeVolumes(volumes);
  for (const f of readdirSync(secretsDir)) unlinkSync(path.join(secretsDir, f));
  rmdirSync(secretsDir);
  await redis?.destroy();
  // h.memoryDir stays: it holds the remove's archive, which Helm never deletes.
});

async function approvalRequestOf(pending: Record<string, unknown>) {
  return ApprovalRequestSchema.parse(
    (await waitFor(async () => wardenRequests.getJob(String(pending.approval_id)), 'approval request')).data,
  );
}

describe('through the bus', () => {
  it('a production remove parks for Warden, changes nothing until approved, then archives and removes', async () => {
    const name = named('e2e-db');
    const volume = `helm-test-${uniqueName('e2e-data')}`;
    volumes.push(volume);
    await testDocker().createVolume({ Name: volume, Labels: testLabels() });
    await startVolumeService({
      service: name,
      environment: 'production',
      volume,
      script: 'echo precious > /data/rows.txt',
    });

    const job = await bus.send({
      action: 'remove',
      target: name,
      environment: 'production',
      reason: 'decommission the old database',
      params: { volumes: true },
    });
    const pending = await waitForStatus(bus.actions, job, 'pending_approval');
    const req = await approvalRequestOf(pending);
    expect(req.plan).toMatchObject({
      action: 'remove',
      environment: 'production',
      desired: { volumes: true, archive: true },
    });
    // Parked: nothing changed.
    await new Promise((r) => setTimeout(r, 500));
    expect(await runningOf(name)).toEqual([name]);
    expect(await volumeExists(volume)).toBe(true);

    await warden.decide(approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bus.events, 60_000)) as Record<string, unknown>;
    results.push(result);
    console.log(`[e2e] remove: ${String(result['outcome'])}`);
    expect(result).toMatchObject({ status: 'executed', approval_id: req.approval_id });
    const archive = (result['data'] as { archives: Array<{ path: string }> }).archives[0]!.path;
    expect(archive.startsWith(path.join(h.memoryDir, 'archives', name, `${volume}-`))).toBe(true);
    expect(String(result['outcome'])).toContain(
      `removed ${name} and its volume data (${volume}; archived to ${archive})`,
    );
    expect(readFileSync(archive).includes(Buffer.from('precious\n'))).toBe(true);
    expect(await runningOf(name)).toEqual([]);
    expect(await volumeExists(volume)).toBe(false);
  });

  it('a scale-down in dev parks for Warden, changes nothing until approved, then removes the newest replica', async () => {
    const name = named('e2e-workers');
    await startServiceContainer({
      service: name,
      name,
      image: 'helm-test/worker:1',
      port: null,
      labels: { 'ghost.environment': 'dev' },
    });
    await startServiceContainer({
      service: name,
      name: `${name}-2`,
      image: 'helm-test/worker:1',
      port: null,
      labels: { 'ghost.environment': 'dev' },
    });
    const job = await bus.send({
      action: 'scale',
      target: name,
      environment: 'dev',
      reason: 'less load',
      params: { replicas: 1 },
    });
    const pending = await waitForStatus(bus.actions, job, 'pending_approval');
    const req = await approvalRequestOf(pending);
    expect(req.plan).toMatchObject({ action: 'scale', environment: 'dev', desired: { replicas: 1 } });
    await new Promise((r) => setTimeout(r, 500));
    expect(await runningOf(name)).toEqual([name, `${name}-2`]);

    await warden.decide(approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bus.events, 60_000)) as Record<string, unknown>;
    results.push(result);
    console.log(`[e2e] scale: ${String(result['outcome'])}`);
    expect(result).toMatchObject({ status: 'executed', approval_id: req.approval_id });
    expect(String(result['outcome'])).toMatch(new RegExp(`^scaled ${name} from 2 to 1 replica in`));
    expect(await runningOf(name)).toEqual([name]);
  });

  it('a set_env in staging runs at once', async () => {
    const name = named('e2e-env');
    await startServiceContainer({
      service: name,
      name,
      image: 'helm-test/worker:1',
      port: null,
      env: { MODE: 'slow' },
      labels: { 'ghost.environment': 'staging' },
    });
    const r = await bus.request({
      action: 'set_env',
      target: name,
      environment: 'staging',
      reason: 'faster',
      params: { set: { MODE: 'fast' } },
    });
    results.push(r);
    console.log(`[e2e] set_env: ${String(r['outcome'])}`);
    expect(r).toMatchObject({ status: 'executed', approval_id: null, release: { id: 'r2' } });
    expect(String(r['outcome'])).toMatch(new RegExp(`^set MODE on ${name} \\(1 container recreated`));
    expect((await testDocker().getContainer(name).inspect()).Config.Env).toContain('MODE=fast');
  });

  it('a set_env with a secret reference leaves its value in no sink', async () => {
    const name = named('e2e-secret');
    await startServiceContainer({
      service: name,
      name,
      image: 'helm-test/worker:1',
      port: null,
      labels: { 'ghost.environment': 'staging' },
    });
    const r = await bus.request({
      action: 'set_env',
      target: name,
      environment: 'staging',
      reason: 'give it the API token',
      params: { set: { API_TOKEN: { secret: 'api-token' } } },
    });
    results.push({ r: { ...r, job: undefined }, progress: r.job.progress });
    expect(r).toMatchObject({ status: 'executed' });
    expect((await testDocker().getContainer(name).inspect()).Config.Env).toContain(`API_TOKEN=${CANARY}`);

    const memory = filesUnder(h.memoryDir)
      .filter((f) => !f.endsWith('.tar'))
      .map((f) => readFileSync(f, 'latin1'))
      .join('\n');
    await new Promise((res) => setTimeout(res, 1500)); // the AOF's everysec fsync
    const sinks: Record<string, string> = {
      results: JSON.stringify(results),
      alerts: JSON.stringify(await bus.alertsSent()),
      runLog: runLogText(h.memoryDir),
      logLines: h.logLines.join('\n'),
      redis: await everyRedisValue(bus.redis),
      aof: aofText(redis.dir),
      memory,
    };
    for (const [sink, text] of Object.entries(sinks)) {
      expect(text.length, `${sink} is empty: the test would prove nothing`).toBeGreaterThan(0);
      expect(text.includes(CANARY), `canary in ${sink}`).toBe(false);
    }
    expect(sinks['redis']).toContain('api-token'); // the reference is there, by name
  });

  it('a parked set_env whose secret changes before approval ends stale_plan, nothing changed', async () => {
    const name = named('e2e-stale');
    writeFileSync(path.join(secretsDir, 'db-pass'), 'first-value-123456\n', { mode: 0o600 });
    await startServiceContainer({
      service: name,
      name,
      image: 'helm-test/worker:1',
      port: null,
      labels: { 'ghost.environment': 'production' },
    });
    const before = (await testDocker().getContainer(name).inspect()).Id;
    const job = await bus.send({
      action: 'set_env',
      target: name,
      environment: 'production',
      reason: 'rotate',
      params: { set: { DB_PASS: { secret: 'db-pass' } } },
    });
    const req = await approvalRequestOf(await waitForStatus(bus.actions, job, 'pending_approval'));
    writeFileSync(path.join(secretsDir, 'db-pass'), 'second-value-654321\n', { mode: 0o600 });
    await warden.decide(approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'stale_plan' } });
    expect((await testDocker().getContainer(name).inspect()).Id).toBe(before);
    expect(JSON.stringify(result)).not.toContain('value-');
  });
});

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

function runLogText(dir: string): string {
  return readdirSync(dir)
    .filter((f) => f.startsWith('run_log') && f.endsWith('.md'))
    .map((f) => readFileSync(path.join(dir, f), 'utf8'))
    .join('\n');
}

function aofText(dir: string): string {
  const files = filesUnder(dir).filter((f) => /\.aof(\.|$)|appendonly/.test(path.basename(f)));
  return files.map((f) => readFileSync(f, 'latin1')).join('\n');
}

async function everyRedisValue(r: Redis): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', '*', 'COUNT', '500');
    cursor = next;
    for (const key of keys) {
      parts.push(key);
      const type = await r.type(key);
      if (type === 'string') parts.push(String(await r.get(key)));
      else if (type === 'hash') parts.push(JSON.stringify(await r.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await r.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await r.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await r.zrange(key, '0', '-1')));
      else if (type === 'stream') parts.push(JSON.stringify(await r.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}
