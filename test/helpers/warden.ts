// The tests' Warden: a key pair of its own, and decisions signed exactly as the contract says.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type Job, Queue } from 'bullmq';
import { signDecision } from '../../src/approval/index.js';
import { type ApprovalRequest, ApprovalRequestSchema } from '../../src/contracts/index.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from './helm.js';
import { waitFor } from './containers.js';

export interface TestWarden {
  publicPem: string;
  privateKey: KeyObject;
  /** Signs a decision for a parked request (without sending it). */
  sign(
    req: ApprovalRequest,
    decision: 'approved' | 'denied',
    over?: DecisionOverrides,
  ): Record<string, unknown>;
  /** Signs a decision for a parked request and adds it to helm.approvals. */
  decide(
    approvals: Queue,
    req: ApprovalRequest,
    decision: 'approved' | 'denied',
    over?: DecisionOverrides,
  ): Promise<Record<string, unknown>>;
}

type DecisionOverrides = Partial<{
  plan_hash: string;
  expires_at: string;
  reason: string;
  privateKey: KeyObject;
}>;

export function makeTestWarden(): TestWarden {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const sign = (req: ApprovalRequest, decision: 'approved' | 'denied', over: DecisionOverrides = {}) =>
    signDecision(
      {
        approval_id: req.approval_id,
        decision,
        plan_hash: over.plan_hash ?? req.plan_hash,
        approver: 'test-warden',
        decided_at: new Date().toISOString(),
        expires_at: over.expires_at ?? new Date(Date.now() + 600_000).toISOString(),
        ...(over.reason ? { reason: over.reason } : {}),
      },
      over.privateKey ?? privateKey,
    ) as unknown as Record<string, unknown>;
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey,
    sign,
    async decide(approvals, req, decision, over = {}) {
      const d = sign(req, decision, over);
      await approvals.add('decision', d);
      return d;
    },
  };
}

/** Waits until a request's job publishes the given status as its progress; returns that result. */
export async function waitForStatus(
  actions: Queue,
  job: Job,
  status: string,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const fresh = await actions.getJob(job.id!);
      const p = (fresh?.progress ?? null) as Record<string, unknown> | null;
      return p && p.status === status ? p : null;
    },
    `status ${status} on job ${job.id}`,
    timeoutMs,
  );
}

/**
 * A Helm that knows the test Warden's key, a bus client, and the two approval queues: what every test
 * of parked requests starts from. `close()` undoes it all.
 */
export interface WardenBed {
  h: TestHelm;
  bus: BusClient;
  warden: TestWarden;
  approvals: Queue;
  wardenRequests: Queue;
  /** The ApprovalRequest Helm put on warden.requests for this approval id. */
  approvalRequest(approvalId: string): Promise<ApprovalRequest>;
  close(): Promise<void>;
}

export async function startWardenBed(
  env: Record<string, string> = {},
  warden = makeTestWarden(),
): Promise<WardenBed> {
  const h = await startTestHelm({ HELM_WARDEN_PUBLIC_KEY: warden.publicPem, ...env });
  const bus = await busClient(h.prefix);
  const approvals = new Queue('helm.approvals', { connection: bus.redis, prefix: h.prefix });
  const wardenRequests = new Queue('warden.requests', { connection: bus.redis, prefix: h.prefix });
  return {
    h,
    bus,
    warden,
    approvals,
    wardenRequests,
    async approvalRequest(approvalId) {
      const job = await waitFor(
        async () => wardenRequests.getJob(approvalId),
        `the approval request ${approvalId}`,
      );
      return ApprovalRequestSchema.parse(job.data);
    },
    async close() {
      await approvals.close();
      await wardenRequests.close();
      await bus.close();
      await h.close();
    },
  };
}
