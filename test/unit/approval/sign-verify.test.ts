import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DecisionFields,
  decisionSigningText,
  keyIdOf,
  signDecision,
  verifyDecision,
  verifyDecisionText,
} from '../../../src/approval/index.js';
import { canonicalJson } from '../../../src/contracts/index.js';

const warden = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const keyring = new Map([[keyIdOf(warden.publicKey), warden.publicKey]]);

const fields: DecisionFields = {
  approval_id: '3f6c1a52-8d0e-4b7a-9c21-5e4f0a9b7d13',
  decision: 'approved',
  plan_hash: 'a'.repeat(64),
  approver: 'owner',
  decided_at: '2026-11-29T17:06:10Z',
  expires_at: '2026-11-29T17:21:10Z',
  reason: 'ok',
};

describe('signDecision', () => {
  it('signs the canonical form without signature, naming the key', () => {
    const decision = signDecision(fields, warden.privateKey);
    expect(decision.key_id).toBe(keyIdOf(warden.publicKey));
    expect(decision.type).toBe('helm.approval-decision.v1');
    const { signature, ...rest } = decision;
    expect(decisionSigningText(decision)).toBe(canonicalJson(rest));
    expect(signature).toMatch(/^[A-Za-z0-9+/]{86}==$/);
  });

  it('leaves reason out when there is none (never null)', () => {
    const { reason: _r, ...noReason } = fields;
    expect('reason' in signDecision(noReason, warden.privateKey)).toBe(false);
  });

  it('refuses to build a malformed decision', () => {
    expect(() => signDecision({ ...fields, plan_hash: 'nope' }, warden.privateKey)).toThrow(/plan_hash/);
    expect(() => signDecision(fields, warden.publicKey)).toThrow(/private key/);
  });
});

describe('verifyDecision', () => {
  const decision = signDecision(fields, warden.privateKey);

  it('accepts a good decision, object or text', () => {
    expect(verifyDecision(decision, keyring)).toEqual({ ok: true, decision });
    expect(verifyDecisionText(JSON.stringify(decision), keyring)).toEqual({ ok: true, decision });
  });

  it.each([
    ['missing field', (d: Record<string, unknown>) => delete d['approver'], 'approver is required'],
    ['unknown field', (d: Record<string, unknown>) => (d['extra'] = 1), 'unknown field "extra"'],
    [
      'null reason',
      (d: Record<string, unknown>) => (d['reason'] = null),
      'reason: must be a string, got null',
    ],
  ])('refuses a %s as malformed', (_name, mutate, detail) => {
    const copy: Record<string, unknown> = { ...decision };
    mutate(copy);
    expect(verifyDecision(copy, keyring)).toEqual({ ok: false, reason: 'malformed', detail });
  });

  it('refuses non-objects, oversized and duplicate-key text as malformed', () => {
    expect(verifyDecision([decision], keyring)).toMatchObject({ ok: false, reason: 'malformed' });
    expect(verifyDecision(JSON.stringify(decision), keyring)).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'decision must be a JSON object, got a string',
    });
    expect(verifyDecisionText('{', keyring)).toMatchObject({ ok: false, reason: 'malformed' });
    const dup = `${JSON.stringify(decision).slice(0, -1)},"approver":"mallory"}`;
    expect(verifyDecisionText(dup, keyring)).toEqual({
      ok: false,
      reason: 'malformed',
      detail: 'decision is not valid JSON: duplicate key "approver"',
    });
    expect(verifyDecisionText(' '.repeat(20_000), keyring)).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses an unknown key and a bad signature', () => {
    const foreign = signDecision(fields, stranger.privateKey);
    expect(verifyDecision(foreign, keyring)).toMatchObject({ ok: false, reason: 'unknown_key' });
    expect(verifyDecision({ ...foreign, key_id: decision.key_id }, keyring)).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('verifies the received object, not a parsed copy', () => {
    // Same fields in another order: the canonical form is the same, so the signature still holds.
    const reordered = Object.fromEntries(Object.entries(decision).reverse());
    expect(verifyDecision(reordered, keyring).ok).toBe(true);
  });
});

const RUNS = 2000;

const decisionFields: fc.Arbitrary<DecisionFields> = fc.record(
  {
    approval_id: fc.uuid({ version: 4 }),
    decision: fc.constantFrom('approved', 'denied'),
    plan_hash: fc.stringMatching(/^[0-9a-f]{64}$/),
    approver: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== ''),
    decided_at: fc
      .date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true })
      .map((d) => d.toISOString()),
    expires_at: fc
      .date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true })
      .map((d) => d.toISOString()),
    reason: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ''),
  },
  { requiredKeys: ['approval_id', 'decision', 'plan_hash', 'approver', 'decided_at', 'expires_at'] },
);

/** A different value for one field, of a plausible kind (so the refusal is the signature's doing). */
function mutated(field: string, value: unknown): unknown {
  if (typeof value === 'string') {
    if (field === 'decision') return value === 'approved' ? 'denied' : 'approved';
    if (field === 'signature')
      return `${value.slice(0, 10)}${value[10] === 'A' ? 'B' : 'A'}${value.slice(11)}`;
    if (/^[0-9a-f-]+$/.test(value)) return value.replace(/[0-9a-f]$/, (c) => (c === '0' ? '1' : '0'));
    return `${value}x`;
  }
  return 'x';
}

describe('properties', () => {
  it(`sign → verify round trip holds (${RUNS} runs)`, () => {
    let runs = 0;
    fc.assert(
      fc.property(decisionFields, (f) => {
        runs++;
        const decision = signDecision(f, warden.privateKey);
        expect(verifyDecision(decision, keyring)).toEqual({ ok: true, decision });
        expect(verifyDecisionText(JSON.stringify(decision), keyring).ok).toBe(true);
      }),
      { numRuns: RUNS },
    );
    console.log(`[property] sign → verify round trip: ${runs} runs`);
  });

  it(`any single-field mutation is refused (${RUNS} runs)`, () => {
    let runs = 0;
    const byReason: Record<string, number> = {};
    const kinds = ['change', 'delete', 'add', 'null'] as const;
    fc.assert(
      fc.property(decisionFields, fc.nat(), fc.constantFrom(...kinds), (f, pick, kind) => {
        runs++;
        const decision: Record<string, unknown> = { ...signDecision(f, warden.privateKey) };
        const names = [...Object.keys(decision), ...(kind === 'add' ? ['reason', 'note'] : [])];
        const field = names[pick % names.length] as string;
        if (kind === 'add' && field in decision) decision[field] = mutated(field, decision[field]);
        else if (kind === 'add') decision[field] = 'added';
        else if (kind === 'delete') delete decision[field];
        else if (kind === 'null') decision[field] = null;
        else decision[field] = mutated(field, decision[field]);
        const verdict = verifyDecision(decision, keyring);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) byReason[verdict.reason] = (byReason[verdict.reason] ?? 0) + 1;
      }),
      { numRuns: RUNS },
    );
    console.log(
      `[property] single-field mutations refused: ${runs} runs, by reason ${JSON.stringify(byReason)}`,
    );
    expect(Object.keys(byReason).sort()).toEqual(['bad_signature', 'malformed', 'unknown_key']);
  });
});
