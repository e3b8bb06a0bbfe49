// The real `helm keys generate`, `helm approve` and `helm deny` processes against the test Redis: the
// decision they add to helm.approvals verifies under the generated public key, is bound to the plan's
// recomputed hash, and nothing is added when the request is missing, ended or inconsistent.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyring, verifyDecision } from '../../../src/approval/index.js';
import { sendDecision } from '../../../src/cli/decide-command.js';
import {
  type ApprovalRequest,
  ApprovalRequestSchema,
  hashCanonical,
  type Plan,
} from '../../../src/contracts/index.js';
import { makeParkedStore } from '../../../src/gate/parked-store.js';
import { DEFAULT_TEST_REDIS_URL } from '../../helpers/global-setup.js';
import { freshPrefix } from '../../helpers/queue-prefix.js';

const run = promisify(execFile);
const redisUrl = process.env['HELM_TEST_REDIS_URL'] ?? DEFAULT_TEST_REDIS_URL;
const prefix = freshPrefix();
const env = { PATH: process.env['PATH'] ?? '', REDIS_URL: redisUrl, HELM_QUEUE_PREFIX: prefix };

const vectors = JSON.parse(
  await readFile(new URL('../../vectors/approval-vectors.json', import.meta.url), 'utf8'),
) as { plans: Array<{ name: string; plan: Plan }> };
const restartPlan = vectors.plans.find((p) => p.name === 'restart_production')?.plan as Plan;

let dir: string;
let keyFile: string;
let publicPem: string;
let keyId: string;
let redis: Redis;
let requests: Queue;
let approvals: Queue;

/** A request as the gate sends it (jobId = approval_id), expiring in `expiresInS`. */
function approvalRequest(expiresInS = 3600, plan: Plan = restartPlan): ApprovalRequest {
  const now = Date.now();
  return ApprovalRequestSchema.parse({
    type: 'helm.approval-request.v1',
    approval_id: randomUUID(),
    plan_hash: hashCanonical(plan),
    plan,
    steps: ['restart the 2 containers of openclaw-gateway'],
    request: { action: 'restart', target: 'openclaw-gateway', environment: 'production', reason: 'stuck' },
    requested_at: new Date(now - 1000).toISOString(),
    expires_at: new Date(now + expiresInS * 1000).toISOString(),
  });
}

async function helm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function decisionsSent(): Promise<unknown[]> {
  return (await approvals.getJobs(['waiting'], 0, -1, true)).map((job) => job.data);
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'helm-decide-'));
  const generated = await helm('keys', 'generate', '--out', dir, '--name', 'warden');
  expect(generated.code).toBe(0);
  keyId = /^key_id: ([0-9a-f]{16})$/m.exec(generated.stdout)?.[1] as string;
  keyFile = path.join(dir, 'warden.key.pem');
  publicPem = await readFile(path.join(dir, 'warden.pub.pem'), 'utf8');
  redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  requests = new Queue('warden.requests', { connection: redis, prefix });
  approvals = new Queue('helm.approvals', { connection: redis, prefix });
});

afterAll(async () => {
  await requests?.obliterate({ force: true });
  await approvals?.obliterate({ force: true });
  await requests?.close();
  await approvals?.close();
  redis?.disconnect();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('helm approve / helm deny', () => {
  it('sign the plan found on warden.requests and add the decision to helm.approvals', async () => {
    const request = approvalRequest();
    await requests.add('approval-request', request, { jobId: request.approval_id });

    const approved = await helm('approve', request.approval_id, '--key', keyFile, '--expires-in', '120');
    expect(approved.stderr).toContain(
      `approved ${request.approval_id}: restart openclaw-gateway in production`,
    );
    expect(approved.code).toBe(0);
    const printed = JSON.parse(approved.stdout);
    const [sent] = await decisionsSent();
    expect(sent).toEqual(printed);
    expect(verifyDecision(sent, parseKeyring(publicPem))).toMatchObject({ ok: true });
    expect(sent).toMatchObject({
      approval_id: request.approval_id,
      decision: 'approved',
      plan_hash: hashCanonical(restartPlan),
      approver: 'owner-cli',
      key_id: keyId,
    });
    const { decided_at, expires_at } = sent as { decided_at: string; expires_at: string };
    expect(Date.parse(expires_at) - Date.parse(decided_at)).toBe(120_000);
    expect(approved.stdout).not.toContain('PRIVATE KEY');

    const other = approvalRequest(30);
    await requests.add('approval-request', other, { jobId: other.approval_id });
    const denied = await helm(
      'deny',
      other.approval_id,
      '--key',
      keyFile,
      '--reason',
      'not now',
      '--approver',
      'alice',
    );
    expect(denied.code).toBe(0);
    const decision = (await decisionsSent())[1] as Record<string, unknown>;
    expect(decision).toMatchObject({ decision: 'denied', reason: 'not now', approver: 'alice' });
    // Capped by the request's 30 s deadline, not the default 600 s.
    expect(decision.expires_at).toBe(other.expires_at);
    expect(verifyDecision(decision, parseKeyring(publicPem)).ok).toBe(true);
  });

  it('send nothing, exit 1, when the request is missing or its plan_hash is not its plan', async () => {
    const before = (await decisionsSent()).length;
    const missing = await helm('approve', randomUUID(), '--key', keyFile);
    expect(missing).toMatchObject({ code: 1, stdout: '' });
    expect(missing.stderr).toMatch(/no approval request .* on warden.requests/);

    const tampered = { ...approvalRequest(), plan_hash: 'f'.repeat(64) };
    await requests.add('approval-request', tampered, { jobId: tampered.approval_id });
    const refused = await helm('approve', tampered.approval_id, '--key', keyFile);
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toContain(`but its plan hashes to ${hashCanonical(restartPlan)}: nothing signed`);

    const noReason = await helm('deny', randomUUID(), '--key', keyFile);
    expect(noReason.code).toBe(1);
    expect(noReason.stderr).toContain("required option '--reason <text>'");
    expect(await decisionsSent()).toHaveLength(before);
  });

  it("prefer Helm's parked record to whatever else claims the approval_id, and refuse an ended one", async () => {
    const real = approvalRequest();
    const parked = makeParkedStore(redis, prefix);
    await parked.park(real, 'job-1', 60_000);
    // Someone with write access to warden.requests adds a consistent request for another plan.
    const otherPlan = { ...restartPlan, desired: { timeout_s: 1 } } as Plan;
    const forged = { ...approvalRequest(3600, otherPlan), approval_id: real.approval_id };
    await requests.add('approval-request', forged);

    const approved = await helm('approve', real.approval_id, '--key', keyFile);
    expect(approved.code).toBe(0);
    expect(JSON.parse(approved.stdout).plan_hash).toBe(real.plan_hash);

    await parked.consume(real.approval_id, real.plan_hash, 'approved', approved.stdout, new Date());
    const again = await helm('approve', real.approval_id, '--key', keyFile);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has ended \(approved at .*\): nothing to decide/);
  });
});

describe("sendDecision (the tests' Warden)", () => {
  it('signs and sends like the CLI', async () => {
    const request = approvalRequest();
    await requests.add('approval-request', request, { jobId: request.approval_id });
    const sent = await sendDecision(
      { redisUrl, queuePrefix: prefix },
      { approvalId: request.approval_id, keyPem: await readFile(keyFile, 'utf8'), decision: 'approved' },
    );
    expect(sent.foundIn).toBe('warden.requests');
    expect((await approvals.getJob(sent.jobId))?.data).toEqual(sent.decision);
    expect(verifyDecision(sent.decision, parseKeyring(publicPem)).ok).toBe(true);
  });
});
