// The owner's (and the tests') Warden: a decision is bound to the plan's recomputed hash, capped by the
// request's deadline, signed so Helm's verifier accepts it, and nothing is signed for a request whose
// claim does not match its plan.
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { keyIdOf, verifyDecision } from '../../../src/approval/index.js';
import {
  buildDecision,
  DecisionError,
  type DecisionErrorCode,
  type DecisionOptions,
  pickApprovalRequest,
} from '../../../src/cli/decide-command.js';
import { hashCanonical, type Plan } from '../../../src/contracts/index.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/approval-vectors.json', import.meta.url), 'utf8'),
) as { plans: Array<{ name: string; plan: Plan; plan_hash: string }> };
const restart = vectors.plans.find((p) => p.name === 'restart_production') as {
  plan: Plan;
  plan_hash: string;
};

const warden = generateKeyPairSync('ed25519');
const pem = (key: KeyObject) => key.export({ type: 'pkcs8', format: 'pem' }) as string;
const keyring = new Map([[keyIdOf(warden.publicKey), warden.publicKey]]);

const APPROVAL_ID = '3f6c1a52-8d0e-4b7a-9c21-5e4f0a9b7d13';
const NOW = new Date('2026-11-29T17:00:00.000Z');

function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'helm.approval-request.v1',
    approval_id: APPROVAL_ID,
    plan_hash: restart.plan_hash,
    plan: structuredClone(restart.plan),
    steps: ['restart the 2 containers of openclaw-gateway'],
    request: { action: 'restart', target: 'openclaw-gateway', environment: 'production', reason: 'stuck' },
    requested_at: '2026-11-29T16:50:00Z',
    expires_at: '2026-11-29T17:50:00Z',
    ...overrides,
  };
}

const options = (more: Partial<DecisionOptions> = {}): DecisionOptions => ({
  approvalId: APPROVAL_ID,
  keyPem: pem(warden.privateKey),
  decision: 'approved',
  now: NOW,
  ...more,
});

function refusal(fn: () => unknown): DecisionErrorCode {
  try {
    fn();
  } catch (error) {
    if (error instanceof DecisionError) return error.code;
    throw error;
  }
  throw new Error('expected a DecisionError');
}

describe('buildDecision', () => {
  it('signs an approval of the plan that Helm verifies, with the defaults', () => {
    const decision = buildDecision(request(), options());
    expect(decision).toMatchObject({
      type: 'helm.approval-decision.v1',
      approval_id: APPROVAL_ID,
      decision: 'approved',
      plan_hash: restart.plan_hash,
      approver: 'owner-cli',
      key_id: keyIdOf(warden.publicKey),
      decided_at: '2026-11-29T17:00:00.000Z',
      expires_at: '2026-11-29T17:10:00.000Z',
    });
    expect('reason' in decision).toBe(false);
    expect(verifyDecision(decision, keyring)).toEqual({ ok: true, decision });
    // What is sent is exactly what was signed: a JSON round trip still verifies.
    expect(verifyDecision(JSON.parse(JSON.stringify(decision)), keyring).ok).toBe(true);
  });

  it('signs a denial with its reason, approver and validity', () => {
    const decision = buildDecision(
      request(),
      options({ decision: 'denied', reason: 'not during the sale', approver: 'alice', expiresInS: 60 }),
    );
    expect(decision).toMatchObject({
      decision: 'denied',
      reason: 'not during the sale',
      approver: 'alice',
      expires_at: '2026-11-29T17:01:00.000Z',
    });
    expect(verifyDecision(decision, keyring).ok).toBe(true);
  });

  it('never lets the decision outlive the request', () => {
    const soon = request({ expires_at: '2026-11-29T17:02:00.123456789Z' });
    expect(buildDecision(soon, options()).expires_at).toBe('2026-11-29T17:02:00.123Z');
    expect(buildDecision(soon, options({ expiresInS: 30 })).expires_at).toBe('2026-11-29T17:00:30.000Z');
  });

  it('binds to the hash recomputed from the plan, and refuses a request whose claim differs', () => {
    expect(refusal(() => buildDecision(request({ plan_hash: 'a'.repeat(64) }), options()))).toBe(
      'plan_mismatch',
    );
    // The plan changed under an unchanged claim (a forger rewrote the plan, not the hash).
    const swapped = request();
    (swapped.plan as { desired: { timeout_s: number } }).desired.timeout_s = 1;
    expect(refusal(() => buildDecision(swapped, options()))).toBe('plan_mismatch');
    // A consistent forgery is signed for what it says: Warden judges the plan, not its wrapper.
    const consistent = request({ plan: swapped.plan, plan_hash: hashCanonical(swapped.plan) });
    expect(buildDecision(consistent, options()).plan_hash).toBe(hashCanonical(swapped.plan));
    expect(buildDecision(consistent, options()).plan_hash).not.toBe(restart.plan_hash);
  });

  it('refuses what Helm would never send', () => {
    expect(refusal(() => buildDecision(null, options()))).toBe('malformed_request');
    expect(refusal(() => buildDecision([], options()))).toBe('malformed_request');
    expect(refusal(() => buildDecision(request({ plan: { plan_version: 2 } }), options()))).toBe(
      'malformed_request',
    );
    expect(refusal(() => buildDecision(request({ type: 'helm.approval-request.v2' }), options()))).toBe(
      'malformed_request',
    );
    expect(refusal(() => buildDecision(request({ steps: 'restart' }), options()))).toBe('malformed_request');
    expect(refusal(() => buildDecision(request({ extra: 1 }), options()))).toBe('malformed_request');
    const other = '9a1b2c3d-4e5f-4a7b-8c9d-0e1f2a3b4c5d';
    expect(refusal(() => buildDecision(request({ approval_id: other }), options()))).toBe(
      'malformed_request',
    );
    expect(() => buildDecision(request({ plan: { plan_version: 2 } }), options())).toThrow(
      /carries no valid plan/,
    );
  });

  it('refuses a request that has expired', () => {
    expect(refusal(() => buildDecision(request({ expires_at: '2026-11-29T17:00:00Z' }), options()))).toBe(
      'expired',
    );
  });

  it('refuses a key that is not an Ed25519 private key, and an out-of-range validity', () => {
    const publicPem = warden.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    for (const keyPem of [publicPem, pem(rsa.privateKey), 'not a key']) {
      expect(refusal(() => buildDecision(request(), options({ keyPem })))).toBe('bad_key');
    }
    for (const expiresInS of [0, -1, 1.5, 86_401, Number.NaN]) {
      expect(
        refusal(() => buildDecision(request(), options({ expiresInS }))),
        String(expiresInS),
      ).toBe('invalid_option');
    }
  });
});

describe('pickApprovalRequest', () => {
  it('finds one, tolerates identical copies, and refuses different claims to one approval_id', () => {
    expect(refusal(() => pickApprovalRequest(APPROVAL_ID, []))).toBe('not_found');
    const a = { jobId: '1', data: request() };
    expect(pickApprovalRequest(APPROVAL_ID, [a, { jobId: '2', data: request() }])).toBe(a);
    const forged = { jobId: '3', data: request({ steps: ['harmless, promise'] }) };
    expect(refusal(() => pickApprovalRequest(APPROVAL_ID, [a, forged]))).toBe('ambiguous');
  });
});
