import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  acceptDecision,
  DEFAULT_CLOCK_SKEW_MS,
  keyIdOf,
  signDecision,
  verifyDecision,
} from '../../../src/approval/index.js';

const warden = generateKeyPairSync('ed25519');
const keyring = new Map([[keyIdOf(warden.publicKey), warden.publicKey]]);
const decision = signDecision(
  {
    approval_id: '3f6c1a52-8d0e-4b7a-9c21-5e4f0a9b7d13',
    decision: 'approved',
    plan_hash: 'a'.repeat(64),
    approver: 'owner',
    decided_at: '2026-11-29T17:06:10Z',
    expires_at: '2026-11-29T17:21:10Z',
  },
  warden.privateKey,
);
const verdict = verifyDecision(decision, keyring);
const parked = { approval_id: decision.approval_id, plan_hash: decision.plan_hash };
const expiresMs = Date.parse('2026-11-29T17:21:10Z');
const before = expiresMs - 60_000;

describe('acceptDecision', () => {
  it('accepts a verified decision for the parked plan before expiry', () => {
    expect(acceptDecision({ verdict, parked, now: before })).toEqual({ outcome: 'accept', decision });
    expect(acceptDecision({ verdict, parked, now: new Date(before) }).outcome).toBe('accept');
  });

  it('allows the clock skew past expires_at, and no more', () => {
    expect(DEFAULT_CLOCK_SKEW_MS).toBe(30_000);
    expect(acceptDecision({ verdict, parked, now: expiresMs + 29_999 }).outcome).toBe('accept');
    expect(acceptDecision({ verdict, parked, now: expiresMs + 30_000 })).toMatchObject({
      outcome: 'info',
      reason: 'late',
    });
    expect(acceptDecision({ verdict, parked, now: expiresMs, skewMs: 0 })).toMatchObject({
      outcome: 'info',
      reason: 'late',
    });
  });

  it('a refused verdict is a security event, whatever else holds', () => {
    const refused = { ok: false as const, reason: 'bad_signature' as const, detail: 'x' };
    expect(acceptDecision({ verdict: refused, parked, now: before })).toEqual({
      outcome: 'security',
      reason: 'bad_signature',
      detail: 'x',
    });
  });

  it('another plan is a security event', () => {
    expect(
      acceptDecision({ verdict, parked: { ...parked, plan_hash: 'b'.repeat(64) }, now: before }),
    ).toMatchObject({
      outcome: 'security',
      reason: 'plan_mismatch',
    });
  });

  it('a request no longer parked, or another approval parked, is info: ended', () => {
    expect(acceptDecision({ verdict, parked: null, now: before })).toMatchObject({
      outcome: 'info',
      reason: 'ended',
    });
    expect(
      acceptDecision({
        verdict,
        parked: { ...parked, approval_id: '9b2e7c44-1f3a-4d6e-8a05-c7d9e2f1b360' },
        now: before,
      }),
    ).toMatchObject({ outcome: 'info', reason: 'ended' });
  });

  it('the first decision wins: a repeat is info', () => {
    expect(acceptDecision({ verdict, parked, alreadyConsumed: true, now: before })).toMatchObject({
      outcome: 'info',
      reason: 'repeat',
    });
  });
});
