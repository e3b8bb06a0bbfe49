// The whole bus under the shipped ACLs: Helm itself runs as `helm`, Forge sends a production
// restart as `forge`, a Warden worker decides as `warden` (with sendDecision, which cannot read
// Helm's parked records under that user and falls back to warden.requests), Sentinel reads the
// alerts as `sentinel`. The restart runs, and the ACL log holds no refusal of Helm's.
import { generateKeyPairSync } from 'node:crypto';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendDecision } from '../../../src/cli/decide-command.js';
import { uniqueName } from '../../helpers/containers.js';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { freshPrefix } from '../../helpers/queue-prefix.js';
import { type AclRedis, startAclRedis } from './acl-redis.js';

const prefix = freshPrefix();
const warden = generateKeyPairSync('ed25519');
let acl: AclRedis;
let h: TestHelm;
const closers: Array<() => Promise<unknown>> = [];

function connect(user: 'forge' | 'warden' | 'sentinel'): Redis {
  const connection = new Redis(acl.url(user), { maxRetriesPerRequest: null });
  closers.push(async () => connection.disconnect());
  return connection;
}

beforeAll(async () => {
  acl = await startAclRedis(prefix, { aof: true });
  h = await startTestHelm(
    {
      REDIS_URL: acl.url('helm'),
      HELM_WARDEN_PUBLIC_KEY: warden.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      HELM_STABILITY_WINDOW_S: '1',
      HELM_HEALTH_TIMEOUT_S: '20',
    },
    { prefix },
  );
});

afterAll(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await h?.close();
  await acl?.destroy();
  await removeTestContainers();
});

describe('every agent under its own Redis user', () => {
  it('a production restart goes Forge → Helm → Warden → Helm → Sentinel, and Helm is never refused', async () => {
    const keyPem = warden.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const decided: string[] = [];
    const wardenWorker = new Worker(
      'warden.requests',
      async (job) => {
        const sent = await sendDecision(
          { redisUrl: acl.url('warden'), queuePrefix: prefix },
          { approvalId: job.data.approval_id, keyPem, decision: 'approved', approver: 'warden' },
        );
        decided.push(sent.foundIn);
      },
      { connection: connect('warden'), prefix },
    );
    closers.push(() => wardenWorker.close());
    const alerts: Array<Record<string, unknown>> = [];
    const sentinelWorker = new Worker(
      'sentinel.alerts',
      async (job) => {
        alerts.push(job.data);
      },
      { connection: connect('sentinel'), prefix },
    );
    closers.push(() => sentinelWorker.close());

    const name = uniqueName('acl-web');
    const web = await startWebService({
      labels: { 'ghost.service': name, 'ghost.environment': 'production' },
    });
    const startedAt = async () => (await testDocker().getContainer(web.id).inspect()).State.StartedAt;
    const before = await startedAt();

    const actions = new Queue('helm.actions', { connection: connect('forge'), prefix });
    closers.push(() => actions.close());
    const events = new QueueEvents('helm.actions', { connection: connect('forge'), prefix });
    closers.push(() => events.close());
    await events.waitUntilReady();
    // Helm's start-up (durability check, heartbeat, queue watch, workers) and every agent's client.
    expect(await acl.aclLog()).toEqual([]);

    const job = await actions.add('restart', {
      action: 'restart',
      target: name,
      environment: 'production',
      reason: 'acl system test',
      requested_by: 'forge',
      params: { timeout_s: 5 },
    });
    const result = (await job.waitUntilFinished(events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed', action: 'restart', environment: 'production' });
    expect(await startedAt()).not.toBe(before);
    expect(decided).toEqual(['warden.requests']);
    await expect
      .poll(() => alerts.find((a) => a.kind === 'action_result'), { timeout: 10_000 })
      .toMatchObject({ dedup_key: `action_result:${job.id}` });

    // Warden's one refusal is its look at Helm's parked record (then it reads warden.requests).
    const log = await acl.aclLog();
    expect(log.filter((line) => !line.startsWith('warden: key '))).toEqual([]);
    expect(log.every((line) => line.includes(`${prefix}:helm:parked:`) || !line.startsWith('warden'))).toBe(
      true,
    );
  });
});
