// The tests' Warden: a key pair of its own, and decisions signed exactly as the contract says.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Job, Queue } from 'bullmq';
import { signDecision } from '../../src/approval/index.js';
import type { ApprovalRequest } from '../../src/contracts/index.js';
import { waitFor } from './containers.js';

export interface TestWarden {
  publicPem: string;
  privateKey: KeyObject;
  /** Signs a decision for a parked request and adds it to helm.approvals. */
  decide(
    approvals: Queue,
    req: ApprovalRequest,
    decision: 'approved' | 'denied',
    over?: Partial<{ plan_hash: string; expires_at: string; reason: string; privateKey: KeyObject }>,
  ): Promise<Record<string, unknown>>;
}

export function makeTestWarden(): TestWarden {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKey,
    async decide(approvals, req, decision, over = {}) {
      const d = signDecision(
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
      );
      await approvals.add('decision', d);
      return d as unknown as Record<string, unknown>;
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
