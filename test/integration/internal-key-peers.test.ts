// Two Helm processes on one bus (HELM_INSTANCE differing, each its own memory folder, as two hosts
// would be). With different internal-job keys each would refuse the other's helm.exec jobs as
// forged: the second refuses to start and says how to share the key. With the same key both serve
// and a staging restart executes. Helm's own misconfiguration never pages `security`.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { heartbeatKeys } from '../../src/contracts/index.js';
import { execQueueName } from '../../src/bus/queue-names.js';
import {
  claimInternalKey,
  internalKeyFingerprint,
  type KeyClaim,
  KeyConflictError,
} from '../../src/bus/internal-key-claim.js';
import { makeLogger } from '../../src/log/logger.js';
import { Redactor } from '../../src/log/redactor.js';
import { signExecJob } from '../../src/exec-job/exec-job.js';
import { deriveKey } from '../../src/keys/helm-key.js';
import { removeTestContainers, startWebService, testDocker } from '../helpers/docker.js';
import { uniqueName, waitFor } from '../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, TEST_REDIS_URL } from '../helpers/helm.js';
import { type HelmProcess, spawnHelm } from '../helpers/helm-process.js';
import { freshPrefix } from '../helpers/queue-prefix.js';
import { readRunLogEntries } from '../helpers/run-log.js';

const procs: HelmProcess[] = [];
const clients: BusClient[] = [];
afterAll(async () => {
  for (const p of procs) await p.kill9();
  for (const c of clients) await c.close();
  await removeTestContainers();
});

function start(prefix: string, memoryDir: string, instance: string): HelmProcess {
  const p = spawnHelm({
    REDIS_URL: TEST_REDIS_URL,
    HELM_QUEUE_PREFIX: prefix,
    HELM_MEMORY_DIR: memoryDir,
    HELM_INSTANCE: instance,
    HELM_HEARTBEAT_INTERVAL_MS: '300',
    HELM_STABILITY_WINDOW_S: '1',
    LOG_LEVEL: 'info',
  });
  procs.push(p);
  return p;
}

async function alive(bus: BusClient, prefix: string, instance: string) {
  await waitFor(
    async () => bus.redis.get(heartbeatKeys(prefix, instance).instance),
    `the heartbeat of ${instance}`,
    30_000,
  );
}

async function exitCode(p: HelmProcess, boundMs = 60_000): Promise<number | null> {
  await waitFor(
    async () => p.child.exitCode !== null || p.child.signalCode !== null,
    'Helm to exit',
    boundMs,
  );
  return p.child.exitCode;
}

async function stagingWeb() {
  const name = uniqueName('peer-web');
  const web = await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'staging' } });
  return { name, id: web.id };
}

/** A routine staging restart through the bus: executed, and Docker shows the container started anew. */
async function expectRestarted(bus: BusClient, web: { name: string; id: string }) {
  const startedAt = async () => (await testDocker().getContainer(web.id).inspect()).State.StartedAt;
  const before = await startedAt();
  const request = { action: 'restart', target: web.name, environment: 'staging', reason: 'routine' };
  expect(await bus.request({ ...request, params: { timeout_s: 5 } })).toMatchObject({ status: 'executed' });
  expect(await startedAt()).not.toBe(before);
}

const securityAlerts = async (bus: BusClient) =>
  (await bus.alertsSent()).filter((a) => a['kind'] === 'security');

describe('two Helm processes on one bus', () => {
  it('the second, with another key, refuses to start and says how to share it; done so, both serve', async () => {
    const prefix = freshPrefix();
    const dirA = await mkdtemp(path.join(os.tmpdir(), 'helm-peer-a-'));
    const dirB = await mkdtemp(path.join(os.tmpdir(), 'helm-peer-b-'));
    const bus = await busClient(prefix);
    clients.push(bus);
    const a = start(prefix, dirA, 'peer-a');
    await alive(bus, prefix, 'peer-a');

    const refused = start(prefix, dirB, 'peer-b');
    expect(await exitCode(refused)).not.toBe(0);
    const said = refused.output();
    expect(said).toMatch(/peer-a/);
    expect(said).toMatch(/another internal-job key/);
    expect(said).toContain(`copy helm.key from ${dirA}`);
    expect(said).toContain(dirB);
    expect(await bus.redis.exists(heartbeatKeys(prefix, 'peer-b').instance)).toBe(0);
    // Nothing was written under the refused key, so replacing it loses nothing.
    expect((await readdir(dirB)).filter((f) => f.startsWith('run_log'))).toEqual([]);

    // The first one served on, and nothing was paged as an attack.
    expect(a.child.exitCode).toBeNull();
    const web = await stagingWeb();
    await expectRestarted(bus, web);
    expect(await securityAlerts(bus)).toEqual([]);

    // The owner does what the message says: the same key, and both serve the bus.
    await copyFile(path.join(dirA, 'helm.key'), path.join(dirB, 'helm.key'));
    const b = start(prefix, dirB, 'peer-b');
    await alive(bus, prefix, 'peer-b');
    // Several, so that both processes' workers take some of the jobs.
    for (let i = 0; i < 4; i++) await expectRestarted(bus, web);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
    expect(await securityAlerts(bus)).toEqual([]);
  });
});

describe('an exec job whose MAC fails because a live Helm holds another key', () => {
  it('is a helm_degraded naming the cause, never a security page; unexplained, it stays security', async () => {
    const h = await startTestHelm();
    const bus = await busClient(h.prefix);
    clients.push(bus);
    const exec = new Queue(execQueueName(h.helm.config.host), { connection: bus.redis, prefix: h.prefix });
    try {
      // The fault: a job MACed under another Helm key, as a gate with its own memory folder makes.
      const otherKey = deriveKey(randomBytes(32), 'internal-job');
      const job = signExecJob(
        {
          v: 1,
          parent_job_id: '1',
          request: { action: 'restart', target: 'web', environment: 'staging', reason: 'x' } as never,
          plan: { action: 'restart', service: 'web', host: h.helm.config.host } as never,
          plan_hash: `sha256:${'0'.repeat(64)}`,
          decision_json: null,
        },
        otherKey,
      );
      const finished = async (id: string) =>
        waitFor(async () => {
          const j = await exec.getJob(id);
          return j && (await j.isCompleted()) ? (j.returnvalue as Record<string, unknown>) : null;
        }, `exec job ${id} to finish`);

      // Unexplained (no live process holds that key): a forgery, as before.
      await exec.add('restart', job, { jobId: 'forged-1' });
      expect(await finished('forged-1')).toMatchObject({ ok: false, code: 'denied' });
      expect((await securityAlerts(bus)).length).toBe(1);

      // The process that holds it is alive on the bus (its claim, as an older Helm would have left none
      // but a racing one could): Helm's own misconfiguration.
      const claim = {
        instance: 'peer-other',
        host: 'other-host',
        pid: 4242,
        memory_dir: '/srv/other/memory',
        fingerprint: internalKeyFingerprint(otherKey),
      };
      await bus.redis
        .multi()
        .sadd(`${h.prefix}:helm:internal-key`, claim.instance)
        .set(`${h.prefix}:helm:internal-key:${claim.instance}`, JSON.stringify(claim), 'PX', 60_000)
        .exec();
      await exec.add('restart', job, { jobId: 'misconfigured-1' });
      const result = await finished('misconfigured-1');
      expect(result).toMatchObject({ ok: false, code: 'internal' });
      expect(String(result['message'])).toMatch(/peer-other .*another internal-job key/);
      const degraded = await waitFor(
        async () => (await bus.alertsSent()).find((a) => a['kind'] === 'helm_degraded'),
        'the helm_degraded alert',
      );
      expect(String(degraded['message'])).toContain('copy helm.key from /srv/other/memory on other-host');
      expect((await securityAlerts(bus)).length).toBe(1);
      const events = await readRunLogEntries(h.memoryDir);
      expect(events.some((e) => e.event === 'helm_degraded' && e.code === 'internal_key_mismatch')).toBe(
        true,
      );
    } finally {
      await exec.close();
      await h.close();
    }
  });
});

describe('the internal-key claim on the real Redis', () => {
  const logger = makeLogger({ level: 'silent', redactor: new Redactor() });
  const claimOf = (instance: string, key: Buffer): KeyClaim => ({
    instance,
    host: 'h',
    pid: 1,
    memory_dir: `/m/${instance}`,
    fingerprint: internalKeyFingerprint(key),
  });

  it('of two processes starting together with different keys, exactly one gets in; the same key, both', async () => {
    const bus = await busClient(freshPrefix());
    clients.push(bus);
    const prefix = String(bus.actions.opts.prefix);
    const claim = (c: KeyClaim) =>
      claimInternalKey({ redis: bus.redis, prefix, claim: c, intervalMs: 60_000, logger });
    const [keyA, keyB] = [randomBytes(32), randomBytes(32)];
    const raced = await Promise.allSettled([claim(claimOf('x', keyA)), claim(claimOf('y', keyB))]);
    expect(raced.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const lost = raced.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(lost.reason).toBeInstanceOf(KeyConflictError);

    const winner = raced[0].status === 'fulfilled' ? keyA : keyB;
    const same = await claim(claimOf('z', winner));
    await same.stop();
  });

  it('a process that is gone blocks nobody: stopped (SIGTERM) or its claim expired (kill -9)', async () => {
    const bus = await busClient(freshPrefix());
    clients.push(bus);
    const prefix = String(bus.actions.opts.prefix);
    const claim = (c: KeyClaim) =>
      claimInternalKey({ redis: bus.redis, prefix, claim: c, intervalMs: 60_000, logger });
    const stopped = await claim(claimOf('stopped', randomBytes(32)));
    await expect(claim(claimOf('new', randomBytes(32)))).rejects.toBeInstanceOf(KeyConflictError);
    await stopped.stop();

    // A killed process refreshes nothing: its claim outlives it by at most three intervals.
    const killed = claimOf('killed', randomBytes(32));
    await bus.redis
      .multi()
      .sadd(`${prefix}:helm:internal-key`, killed.instance)
      .set(`${prefix}:helm:internal-key:${killed.instance}`, JSON.stringify(killed), 'PX', 300)
      .exec();
    await expect(claim(claimOf('new', randomBytes(32)))).rejects.toBeInstanceOf(KeyConflictError);
    await new Promise((r) => setTimeout(r, 400));
    const next = await claim(claimOf('new', randomBytes(32)));
    expect(await bus.redis.smembers(`${prefix}:helm:internal-key`)).toEqual(['new']);
    await next.stop();
  });
});
