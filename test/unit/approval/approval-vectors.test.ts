// Checks every committed vector against the code, recomputing from the vector's inputs; and checks the
// file is what scripts/generate-vectors.ts produces (deterministic keys and signatures).
import { createPrivateKey, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderApprovalVectors } from '../../../scripts/generate-vectors.js';
import {
  acceptDecision,
  decisionSigningText,
  keyIdOf,
  parseKeyring,
  planHash,
  signDecision,
  verifyDecision,
  verifyDecisionText,
} from '../../../src/approval/index.js';
import {
  type ApprovalDecision,
  CanonicalJsonError,
  canonicalJson,
  type Plan,
  PlanSchema,
  parseRfc3339Utc,
} from '../../../src/contracts/index.js';

const text = readFileSync(new URL('../../vectors/approval-vectors.json', import.meta.url), 'utf8');
interface KeyVector {
  private_key_pkcs8_pem: string;
  public_key_spki_pem: string;
  key_id: string;
}
interface PlanVector {
  name: string;
  plan: Plan;
  canonical_utf8: string;
  canonical_hex: string;
  plan_hash: string;
}
interface DecisionVector {
  name: string;
  plan: string;
  signed_by: string;
  decision: ApprovalDecision;
  signed_canonical_utf8: string;
  signed_canonical_hex: string;
  signature: string;
}
interface RefusalVector {
  name: string;
  received?: unknown;
  received_text?: string;
  keyring: string[];
  parked: { approval_id: string; plan_hash: string } | null;
  already_consumed: boolean;
  now: string;
  skew_ms: number;
  expected_verdict: unknown;
  expected_acceptance: unknown;
}
interface JcsVector {
  name: string;
  input_json: string;
  canonical_utf8?: string;
  canonical_hex?: string;
  refused?: true;
}
interface Vectors {
  test_keys_warning: string;
  keys: Record<string, KeyVector>;
  plans: PlanVector[];
  decisions: DecisionVector[];
  acceptance_time: { now: string; skew_ms: number };
  refusals: RefusalVector[];
  jcs: JcsVector[];
}

const vectors = JSON.parse(text) as Vectors;
const named = <T extends { name: string }>(list: T[]) => list.map((v) => [v.name, v] as [string, T]);
const keyOf = (name: string) => vectors.keys[name] as KeyVector;
const hex = (s: string) => Buffer.from(s, 'utf8').toString('hex');

describe('approval vectors', () => {
  it('are what scripts/generate-vectors.ts produces (if not: npx tsx scripts/generate-vectors.ts)', () => {
    expect(text === renderApprovalVectors()).toBe(true);
  });

  it('say the keys are test keys, and the key ids are right', () => {
    expect(vectors.test_keys_warning).toMatch(/TEST KEYS ONLY/);
    for (const key of Object.values(vectors.keys)) {
      const privateKey = createPrivateKey(key.private_key_pkcs8_pem);
      const publicKey = createPublicKey(key.public_key_spki_pem);
      expect(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' })).toBe(
        key.public_key_spki_pem,
      );
      expect(keyIdOf(publicKey)).toBe(key.key_id);
    }
  });

  it.each(named(vectors.plans))('plan %s: canonical bytes and hash', (_n, p) => {
    expect(PlanSchema.safeParse(p.plan).success).toBe(true);
    expect(canonicalJson(p.plan)).toBe(p.canonical_utf8);
    expect(hex(p.canonical_utf8)).toBe(p.canonical_hex);
    expect(planHash(p.plan)).toBe(p.plan_hash);
  });

  it.each(named(vectors.decisions))('decision %s: bytes, signature, verdict', (_n, d) => {
    const key = keyOf(d.signed_by);
    const keyring = parseKeyring(key.public_key_spki_pem);
    const plan = vectors.plans.find((p) => p.name === d.plan) as PlanVector;
    expect(d.decision.plan_hash).toBe(plan.plan_hash);
    expect(decisionSigningText(d.decision)).toBe(d.signed_canonical_utf8);
    expect(hex(d.signed_canonical_utf8)).toBe(d.signed_canonical_hex);
    // Independent of our verifier: plain Ed25519 over the stated bytes.
    const publicKey = createPublicKey(key.public_key_spki_pem);
    expect(
      verify(
        null,
        Buffer.from(d.signed_canonical_utf8, 'utf8'),
        publicKey,
        Buffer.from(d.signature, 'base64'),
      ),
    ).toBe(true);
    // Ed25519 is deterministic: signing the same fields gives the same signature.
    const { type: _t, key_id: _k, signature: _s, ...fields } = d.decision;
    expect(signDecision(fields, createPrivateKey(key.private_key_pkcs8_pem)).signature).toBe(d.signature);
    expect(verifyDecision(d.decision, keyring)).toEqual({ ok: true, decision: d.decision });
    const accepted = acceptDecision({
      verdict: verifyDecision(d.decision, keyring),
      parked: { approval_id: d.decision.approval_id, plan_hash: plan.plan_hash },
      now: parseRfc3339Utc(vectors.acceptance_time.now) as number,
      skewMs: vectors.acceptance_time.skew_ms,
    });
    expect(accepted.outcome).toBe('accept');
  });

  it.each(named(vectors.refusals))('refusal %s', (_n, r) => {
    const keyring = parseKeyring(r.keyring.map((name) => keyOf(name).public_key_spki_pem).join('\n'));
    const verdict =
      r.received_text !== undefined
        ? verifyDecisionText(r.received_text, keyring)
        : verifyDecision(r.received, keyring);
    expect(verdict.ok ? { ok: true } : { ok: false, reason: verdict.reason }).toEqual(r.expected_verdict);
    const acceptance = acceptDecision({
      verdict,
      parked: r.parked,
      alreadyConsumed: r.already_consumed,
      now: parseRfc3339Utc(r.now) as number,
      skewMs: r.skew_ms,
    });
    const got =
      acceptance.outcome === 'accept'
        ? { outcome: 'accept' }
        : { outcome: acceptance.outcome, reason: acceptance.reason };
    expect(got).toEqual(r.expected_acceptance);
  });

  it('cover every refusal the contract names', () => {
    const names = vectors.refusals.map((r) => r.name);
    for (const name of [
      'tampered_approver',
      'unknown_field',
      'null_reason',
      'missing_field',
      'wrong_key_unknown',
      'expired',
      'plan_mismatch',
    ]) {
      expect(names).toContain(name);
    }
  });

  it.each(named(vectors.jcs))('JCS %s', (_n, c) => {
    const input = JSON.parse(c.input_json);
    if (c.refused) {
      expect(() => canonicalJson(input)).toThrow(CanonicalJsonError);
    } else {
      expect(canonicalJson(input)).toBe(c.canonical_utf8);
      expect(hex(c.canonical_utf8 as string)).toBe(c.canonical_hex);
    }
  });
});
