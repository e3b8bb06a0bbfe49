// "Who may write where" (issue 3): real BullMQ clients under each agent's Redis user, on a Redis of
// the test's own that loads the users file exactly as compose does (generated for this test's
// prefix, passwords added by redis/render-acl.sh). Each agent works for its own purpose, its refusals
// are NOPERM, and the ACL log shows that the purposes needed no command or key outside the file.
import { Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freshPrefix } from '../../helpers/queue-prefix.js';
import { type AclRedis, type AclUser, startAclRedis } from './acl-redis.js';

const NOPERM = /^NOPERM /;

const prefix = freshPrefix();
let acl: AclRedis;
let admin: Redis;
const closers: Array<() => Promise<unknown>> = [];

/** A connection logged in as `user`; closed after each test. */
function as(user: AclUser): Redis {
  const connection = new Redis(acl.url(user), { maxRetriesPerRequest: null });
  closers.push(async () => connection.disconnect());
  return connection;
}

function track<T extends { close(): Promise<unknown> }>(client: T): T {
  closers.push(() => client.close());
  return client;
}

const aclLog = () => acl.aclLog();

beforeAll(async () => {
  acl = await startAclRedis(prefix);
  admin = acl.admin;
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

afterAll(async () => {
  await acl?.destroy();
});

describe('each agent works for its own purpose', () => {
  it('Forge adds to helm.actions and follows it to the result a Helm Worker returns', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const helmWorker = track(
      new Worker(
        'helm.actions',
        async (job) => {
          await job.updateProgress({ status: 'approved' });
          return { status: 'executed', target: job.data.target };
        },
        { connection: as('helm'), prefix },
      ),
    );
    await helmWorker.waitUntilReady();

    const actions = track(new Queue('helm.actions', { connection: as('forge'), prefix }));
    const events = track(new QueueEvents('helm.actions', { connection: as('forge'), prefix }));
    await events.waitUntilReady();
    const progress: unknown[] = [];
    const completed: string[] = [];
    events.on('progress', ({ data }) => progress.push(data));
    events.on('completed', ({ jobId }) => completed.push(jobId));

    const job = await actions.add('restart', { action: 'restart', target: 'web' });
    await expect(job.waitUntilFinished(events, 5000)).resolves.toEqual({ status: 'executed', target: 'web' });
    expect(progress).toEqual([{ status: 'approved' }]);
    await expect.poll(() => completed).toEqual([job.id]);
    const again = await Job.fromId(actions, job.id as string);
    expect(again?.returnvalue).toEqual({ status: 'executed', target: 'web' });
    expect(await again?.getState()).toBe('completed');
    expect(await actions.getJobCounts('completed')).toEqual({ completed: 1 });

    await helmWorker.close();
    expect(await aclLog()).toEqual([]);
  });

  it('Warden takes from warden.requests and adds its decision to helm.approvals, which Helm takes', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const approvalsFromWarden = track(new Queue('helm.approvals', { connection: as('warden'), prefix }));
    const wardenWorker = track(
      new Worker(
        'warden.requests',
        async (job) => {
          await approvalsFromWarden.add('decision', {
            approval_id: job.data.approval_id,
            decision: 'denied',
          });
          return 'decided';
        },
        { connection: as('warden'), prefix },
      ),
    );
    const received: unknown[] = [];
    const helmApprovals = track(
      new Worker(
        'helm.approvals',
        async (job) => {
          received.push(job.data);
        },
        { connection: as('helm'), prefix },
      ),
    );
    await Promise.all([wardenWorker.waitUntilReady(), helmApprovals.waitUntilReady()]);

    const requests = track(new Queue('warden.requests', { connection: as('helm'), prefix }));
    // Helm's consumer watch (getWorkers: CLIENT LIST) sees Warden's worker.
    await expect.poll(() => requests.getWorkersCount()).toBe(1);
    await requests.add('approval-request', { approval_id: 'a-1' });
    await expect
      .poll(() => received, { timeout: 5000 })
      .toEqual([{ approval_id: 'a-1', decision: 'denied' }]);

    await Promise.all([wardenWorker.close(), helmApprovals.close()]);
    expect(await aclLog()).toEqual([]);
  });

  it('Sentinel takes from sentinel.alerts (a failed attempt retried too) and reads the heartbeat', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const seen: unknown[] = [];
    const sentinelWorker = track(
      new Worker(
        'sentinel.alerts',
        async (job) => {
          // BullMQ's failure, backoff and retry scripts run under Sentinel's user as well.
          if (job.attemptsMade === 0) throw new Error('first attempt fails');
          seen.push(job.data);
        },
        { connection: as('sentinel'), prefix },
      ),
    );
    await sentinelWorker.waitUntilReady();
    const helm = as('helm');
    const alerts = track(new Queue('sentinel.alerts', { connection: helm, prefix }));
    await alerts.add('action_result', { kind: 'action_result' }, { attempts: 2, backoff: 10 });
    await expect.poll(() => seen, { timeout: 5000 }).toEqual([{ kind: 'action_result' }]);

    await helm.set(`${prefix}:ghost:heartbeat:helm`, '{"at":"now"}', 'PX', 30_000);
    await helm.set(`${prefix}:helm:request:x`, 'helm only');
    const sentinel = as('sentinel');
    expect(await sentinel.get(`${prefix}:ghost:heartbeat:helm`)).toBe('{"at":"now"}');

    await sentinelWorker.close();
    expect(await aclLog()).toEqual([]);
  });
});

describe('and nothing else (NOPERM)', () => {
  it('Forge cannot add to helm.approvals or to an internal queue, nor read or write Helm keys', async () => {
    await admin.call('ACL', 'LOG', 'RESET');
    const idsBefore = await admin.get(`${prefix}:helm.approvals:id`);
    const forge = as('forge');
    const approvals = track(new Queue('helm.approvals', { connection: forge, prefix }));
    await expect(approvals.add('decision', { approval_id: 'forged' })).rejects.toThrow(NOPERM);
    const internal = track(new Queue('helm.exec', { connection: forge, prefix }));
    await expect(internal.add('exec', { plan: 'forged' })).rejects.toThrow(NOPERM);
    await expect(forge.get(`${prefix}:helm:request:x`)).rejects.toThrow(NOPERM);
    await expect(forge.set(`${prefix}:helm:request:x`, 'forged')).rejects.toThrow(NOPERM);
    await expect(forge.set(`${prefix}:ghost:heartbeat:helm`, 'forged')).rejects.toThrow(NOPERM);
    // A script's declared keys are checked before it runs (NOPERM), and each command inside it as it
    // runs (Redis reports that one as a script error): EVAL cannot reach what the user cannot.
    await expect(
      forge.eval("return redis.call('GET', KEYS[1])", 1, `${prefix}:helm:request:x`),
    ).rejects.toThrow(NOPERM);
    await expect(
      forge.eval(`return redis.call('GET', '${prefix}:helm:request:x')`, 1, `${prefix}:helm.actions:x`),
    ).rejects.toThrow(/^ERR The user executing the script can't access at least one of the keys/);
    // Server-wide commands that would reveal or wipe others' keys.
    for (const command of [
      ['KEYS', '*'],
      ['SCAN', '0'],
      ['FLUSHALL'],
      ['CLIENT', 'LIST'],
      ['CONFIG', 'GET', '*'],
    ]) {
      await expect(forge.call(command[0] as string, ...command.slice(1)), command.join(' ')).rejects.toThrow(
        NOPERM,
      );
    }
    expect(await admin.get(`${prefix}:helm:request:x`)).toBe('helm only');
    expect(await admin.get(`${prefix}:helm.approvals:id`)).toBe(idsBefore);
    expect(await admin.exists(`${prefix}:helm.exec:id`)).toBe(0);
    // Every refusal above is in the ACL log, under Forge's name.
    const log = await aclLog();
    expect(log.length).toBeGreaterThan(0);
    expect(log.every((line) => line.startsWith('forge: '))).toBe(true);
  });

  it('Warden and Sentinel reach only their own queues; Sentinel cannot write the heartbeat', async () => {
    const warden = as('warden');
    const wardenActions = track(new Queue('helm.actions', { connection: warden, prefix }));
    await expect(wardenActions.add('deploy', { action: 'deploy' })).rejects.toThrow(NOPERM);
    await expect(warden.get(`${prefix}:helm:request:x`)).rejects.toThrow(NOPERM);

    const sentinel = as('sentinel');
    const sentinelApprovals = track(new Queue('helm.approvals', { connection: sentinel, prefix }));
    await expect(sentinelApprovals.add('decision', { approval_id: 'x' })).rejects.toThrow(NOPERM);
    await expect(sentinel.set(`${prefix}:ghost:heartbeat:helm`, 'forged')).rejects.toThrow(NOPERM);
    await expect(sentinel.del(`${prefix}:ghost:heartbeat:helm`)).rejects.toThrow(NOPERM);
  });

  it('a connection that has not logged in can only PING', async () => {
    const anonymous = new Redis(acl.server.url, { maxRetriesPerRequest: 0 });
    closers.push(async () => anonymous.disconnect());
    expect(await anonymous.ping()).toBe('PONG');
    await expect(anonymous.get(`${prefix}:helm:request:x`)).rejects.toThrow(NOPERM);
    await expect(anonymous.call('INFO')).rejects.toThrow(NOPERM);
  });
});
