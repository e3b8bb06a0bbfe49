// Writes test/vectors/approval-vectors.json: the approval test vectors the contract promises (a fixed
// key pair, plans, plan hashes, decisions, canonical bytes, signatures, refusals) plus JCS edge cases.
// Deterministic: keys come from fixed seeds and Ed25519 signatures are deterministic, so running this
// again gives the same file (a unit test checks that). Run: npx tsx scripts/generate-vectors.ts
import { createHmac, createPrivateKey, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { acceptDecision } from '../src/approval/accept-decision.js';
import { keyIdOf } from '../src/approval/key-id.js';
import { planHash } from '../src/approval/plan-hash.js';
import { type DecisionFields, decisionSigningText, signDecision } from '../src/approval/sign-decision.js';
import { verifyDecision, verifyDecisionText } from '../src/approval/verify-decision.js';
import type { ApprovalDecision } from '../src/contracts/approval-decision.js';
import { canonicalJson, sha256Hex } from '../src/contracts/canonical.js';
import type { Plan } from '../src/contracts/plan.js';
import { PlanSchema } from '../src/contracts/plan.js';
import { parseRfc3339Utc } from '../src/contracts/rfc3339.js';

export const VECTORS_PATH = fileURLToPath(new URL('../test/vectors/approval-vectors.json', import.meta.url));

/** An Ed25519 key from a 32-byte seed: PKCS#8 DER is a fixed 16-byte prefix plus the seed. */
function ed25519FromSeed(label: string): { privateKey: KeyObject; publicKey: KeyObject } {
  const seed = Buffer.from(sha256Hex(label), 'hex');
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

const TEST_KEYS = {
  warden_test: ed25519FromSeed('helm approval vectors: warden test key 1 (public on purpose, not a secret)'),
  other_test: ed25519FromSeed('helm approval vectors: a key Helm is not configured with (not a secret)'),
};
type KeyName = keyof typeof TEST_KEYS;

/** Stand-in for Helm's HMAC key in the vectors: the values are opaque to Warden, any fixed key will do. */
const TEST_HELM_KEY = 'helm approval vectors: test HMAC key (not a secret)';
const hmac = (text: string) => createHmac('sha256', TEST_HELM_KEY).update(text, 'utf8').digest('hex');
const hex64 = (label: string) => sha256Hex(label);

function plans(): Record<string, Plan> {
  const containers = ['gateway-a', 'gateway-b']
    .map((name) => ({
      id: hex64(`container ${name}`),
      image_id: `sha256:${hex64('image 1.2.2')}`,
      config_hmac: hmac(name),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return {
    deploy_production: {
      plan_version: 1,
      action: 'deploy',
      host: 'local',
      service: 'openclaw-gateway',
      environment: 'production',
      request_id: 'forge:build-42',
      requested_by: 'forge',
      preconditions: { containers },
      desired: {
        image: 'registry.example.com:5000/ghost/openclaw-gateway:1.2.3',
        image_id: `sha256:${hex64('image 1.2.3')}`,
        manifest_digest: `sha256:${hex64('manifest 1.2.3')}`,
        artifact_id: 'build-42',
        strategy: 'start-first',
        replaces_release: 'openclaw-gateway:r41',
        new_release: 'openclaw-gateway:r42',
      },
    },
    restart_production: {
      plan_version: 1,
      action: 'restart',
      host: 'local',
      service: 'openclaw-gateway',
      environment: 'production',
      request_id: null,
      requested_by: null,
      preconditions: { containers },
      desired: { timeout_s: 30 },
    },
    set_env_with_secret: {
      plan_version: 1,
      action: 'set_env',
      host: 'local',
      service: 'openclaw-gateway',
      environment: 'production',
      request_id: 'owner:2026-11-29-env',
      requested_by: 'owner',
      preconditions: { containers: containers.slice(0, 1) },
      desired: {
        set: {
          API_URL: { value: 'https://api.example.com/v1' },
          DB_PASSWORD: {
            secret: 'openclaw-db-password',
            hmac_sha256: hmac('the secret value, never in a plan'),
          },
          GREETING: { value: 'héllo € 😀' },
        },
        unset: ['LEGACY_FLAG', 'OLD_TOKEN'],
      },
    },
    // Contract 1.1: a scale plan names exactly the containers that go (decision 73).
    scale_down_production: {
      plan_version: 1,
      action: 'scale',
      host: 'local',
      service: 'openclaw-gateway',
      environment: 'production',
      request_id: 'owner:2026-12-03-scale',
      requested_by: 'owner',
      preconditions: { containers },
      desired: { replicas: 1, remove_containers: [containers[1]!.id] },
    },
    prune_images: {
      plan_version: 1,
      action: 'prune',
      host: 'local',
      service: 'local',
      environment: 'production',
      request_id: 'sentinel:disk-high-7',
      requested_by: 'sentinel',
      preconditions: { containers: [] },
      desired: {
        what: 'images',
        items: ['old image 1', 'old image 2', 'old image 3'].map((s) => `sha256:${hex64(s)}`).sort(),
      },
    },
    // --- contract 1.5 (several hosts, decisions 90-): a plan names its host's id, never "local",
    // so Warden approves "restart openclaw-gateway on host-b" and no other host's executor runs it.
    restart_on_host_b: {
      plan_version: 1,
      action: 'restart',
      host: 'host-b',
      service: 'openclaw-gateway',
      environment: 'production',
      request_id: 'owner:2026-12-03-restart-b',
      requested_by: 'owner',
      preconditions: { containers },
      desired: { timeout_s: 10 },
    },
    // --- end 1.5 ---
    // --- contract 1.6 (start-first behind the proxy, decisions 84-89): a routed service's deploy
    // that named no strategy, planned start-first; the plan's shape is a 1.0 deploy plan's.
    start_first_production: {
      plan_version: 1,
      action: 'deploy',
      host: 'host-a',
      service: 'shop-web',
      environment: 'production',
      request_id: 'forge:build-77',
      requested_by: 'forge',
      preconditions: { containers },
      desired: {
        image: 'registry.example.com:5000/ghost/shop-web:2.0.0',
        image_id: `sha256:${hex64('shop-web 2.0.0')}`,
        manifest_digest: null,
        artifact_id: 'build-77',
        strategy: 'start-first',
        replaces_release: 'r6',
        new_release: 'r7',
      },
    },
    // --- end 1.6 ---
  };
}

const DECIDED_AT = '2026-11-29T17:06:10.123Z';
const EXPIRES_AT = '2026-11-29T17:21:10Z';
const EXPIRES_MS = parseRfc3339Utc(EXPIRES_AT) as number;
const BEFORE_EXPIRY_MS = parseRfc3339Utc('2026-11-29T17:10:00Z') as number;

const DECISION_CASES: Array<{
  name: string;
  plan: string;
  approval_id: string;
  fields: Partial<DecisionFields>;
}> = [
  {
    name: 'approved_deploy_with_reason',
    plan: 'deploy_production',
    approval_id: '3f6c1a52-8d0e-4b7a-9c21-5e4f0a9b7d13',
    fields: { decision: 'approved', reason: 'change window CHG-1042; artifact verified' },
  },
  {
    name: 'denied_restart_with_reason',
    plan: 'restart_production',
    approval_id: '9b2e7c44-1f3a-4d6e-8a05-c7d9e2f1b360',
    fields: { decision: 'denied', reason: 'not during peak hours' },
  },
  {
    name: 'approved_set_env_without_reason',
    plan: 'set_env_with_secret',
    approval_id: 'c0a8f9e2-6b4d-4e1f-a3c7-2d5b8e9f0a41',
    fields: { decision: 'approved' },
  },
  {
    name: 'approved_scale_down_with_reason',
    plan: 'scale_down_production',
    approval_id: 'e4b2c7a1-9d3f-4a6e-8c15-3f7a2b9d0e58',
    fields: { decision: 'approved', reason: 'traffic is low; one gateway is enough' },
  },
  {
    name: 'denied_prune_without_reason',
    plan: 'prune_images',
    approval_id: '5d1e3b7f-2c9a-4f8e-b6d0-7a3c1e5f9b22',
    fields: { decision: 'denied' },
  },
  // --- contract 1.5 (several hosts) ---
  {
    name: 'approved_restart_on_host_b',
    plan: 'restart_on_host_b',
    approval_id: '7c3d9a15-4e2b-4f60-9d8a-1b5e7f3c2a94',
    fields: { decision: 'approved', reason: 'host-b only' },
  },
  // --- end 1.5 ---
  // --- contract 1.6 (start-first behind the proxy) ---
  {
    name: 'approved_start_first_production',
    plan: 'start_first_production',
    approval_id: '2a8e4c61-7b3d-4f95-8e0c-6d1f9b4a3c57',
    fields: { decision: 'approved', reason: 'start-first behind the proxy; artifact verified' },
  },
  // --- end 1.6 ---
];

function signRaw(unsigned: Record<string, unknown>, key: KeyName): Record<string, unknown> {
  const text = decisionSigningText(unsigned);
  return {
    ...unsigned,
    signature: sign(null, Buffer.from(text, 'utf8'), TEST_KEYS[key].privateKey).toString('base64'),
  };
}

function without(o: Record<string, unknown>, field: string): Record<string, unknown> {
  const { [field]: _removed, ...rest } = o;
  return rest;
}

interface RefusalCase {
  name: string;
  why: string;
  received?: unknown;
  received_text?: string;
  parked: { approval_id: string; plan_hash: string } | null;
  already_consumed: boolean;
  now: string;
}

function refusalCases(decision: ApprovalDecision, planHashes: Record<string, string>): RefusalCase[] {
  const d = decision as unknown as Record<string, unknown>;
  const parked = { approval_id: decision.approval_id, plan_hash: decision.plan_hash };
  const now = '2026-11-29T17:10:00Z';
  const unsigned = without(d, 'signature');
  const lastChar = decision.signature[85] as string;
  const sloppyBase64 = `${decision.signature.slice(0, 85)}${String.fromCharCode(lastChar.charCodeAt(0) + 1)}==`;
  const base = { parked, already_consumed: false, now };
  return [
    { ...base, name: 'accepted', why: 'valid, parked, same plan, before expiry', received: d },
    {
      ...base,
      name: 'tampered_approver',
      why: 'a signed field changed after signing',
      received: { ...d, approver: 'mallory' },
    },
    {
      ...base,
      name: 'tampered_decision',
      why: 'decision flipped after signing',
      received: { ...d, decision: 'denied' },
    },
    {
      ...base,
      name: 'reason_removed',
      why: 'a signed optional field dropped',
      received: without(d, 'reason'),
    },
    {
      ...base,
      name: 'unknown_field',
      why: 'an unknown field is refused, never ignored',
      received: { ...d, note: 'hi' },
    },
    { ...base, name: 'null_reason', why: 'null is not absent', received: { ...d, reason: null } },
    { ...base, name: 'missing_field', why: 'decided_at missing', received: without(d, 'decided_at') },
    {
      ...base,
      name: 'non_canonical_base64',
      why: 'padding bits set: the same bytes, another text',
      received: { ...d, signature: sloppyBase64 },
    },
    {
      ...base,
      name: 'duplicate_key_text',
      why: 'JSON text naming a key twice',
      received_text: `${JSON.stringify(d).slice(0, -1)},"decision":"approved"}`,
    },
    {
      ...base,
      name: 'wrong_key_unknown',
      why: 'signed by a key Helm is not configured with, named by its own key_id',
      received: signRaw({ ...unsigned, key_id: keyIdOf(TEST_KEYS.other_test.publicKey) }, 'other_test'),
    },
    {
      ...base,
      name: 'wrong_key_claiming_warden',
      why: "signed by another key but naming Warden's key_id",
      received: signRaw(unsigned, 'other_test'),
    },
    {
      ...base,
      name: 'plan_mismatch',
      why: 'the parked plan is another plan',
      received: d,
      parked: { approval_id: decision.approval_id, plan_hash: planHashes['restart_production'] as string },
    },
    { ...base, name: 'ended', why: 'no request is parked under this approval_id', received: d, parked: null },
    {
      ...base,
      name: 'repeat',
      why: 'a decision for this approval_id was already consumed',
      received: d,
      already_consumed: true,
    },
    {
      ...base,
      name: 'expired',
      why: 'now is past expires_at plus the 30 s skew',
      received: d,
      now: new Date(EXPIRES_MS + 30_000).toISOString(),
    },
    {
      ...base,
      name: 'within_skew',
      why: 'now is past expires_at but within the 30 s skew',
      received: d,
      now: new Date(EXPIRES_MS + 29_999).toISOString(),
    },
  ];
}

/** JCS edge cases with hand-written expectations (not computed by the code under test). */
const JCS_CASES = [
  {
    name: 'rfc8785_key_order_utf16',
    input_json:
      '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",' +
      '"\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    canonical_utf8:
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
      '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  },
  {
    name: 'string_escapes',
    input_json: '{"s":"\\u0000\\u0008\\t\\n\\u000b\\f\\r\\u001f\\"\\\\\\/\\u007f\\u2028\\u00e9"}',
    canonical_utf8: '{"s":"\\u0000\\b\\t\\n\\u000b\\f\\r\\u001f\\"\\\\/\u007f\u2028é"}',
  },
  {
    name: 'integers',
    input_json: '{"zero":0,"neg_zero":-0,"exp":1E2,"max":9007199254740991,"min":-9007199254740991}',
    canonical_utf8: '{"exp":100,"max":9007199254740991,"min":-9007199254740991,"neg_zero":0,"zero":0}',
  },
  {
    name: 'nesting_and_whitespace',
    input_json: ' { "b" : [ 3 , { "z" : true , "a" : null } ] , "a" : { } , "c" : [ ] } ',
    canonical_utf8: '{"a":{},"b":[3,{"a":null,"z":true}],"c":[]}',
  },
  { name: 'refuses_float', input_json: '{"x":1.5}', refused: true },
  { name: 'refuses_unsafe_integer', input_json: '{"x":9007199254740992}', refused: true },
  { name: 'refuses_lone_surrogate_value', input_json: '{"x":"\\ud800"}', refused: true },
  { name: 'refuses_lone_surrogate_key', input_json: '{"\\udc00":1}', refused: true },
];

function canonicalRecord(value: unknown) {
  const text = canonicalJson(value);
  return { canonical_utf8: text, canonical_hex: Buffer.from(text, 'utf8').toString('hex') };
}

export function buildApprovalVectors() {
  const planList = plans();
  for (const [name, plan] of Object.entries(planList)) {
    if (!PlanSchema.safeParse(plan).success) throw new Error(`vector plan ${name} does not validate`);
  }
  const planHashes = Object.fromEntries(
    Object.entries(planList).map(([name, plan]) => [name, planHash(plan)]),
  );
  const keyring = new Map([[keyIdOf(TEST_KEYS.warden_test.publicKey), TEST_KEYS.warden_test.publicKey]]);

  const decisions = DECISION_CASES.map((c) => {
    const decision = signDecision(
      {
        approval_id: c.approval_id,
        decision: c.fields.decision ?? 'approved',
        plan_hash: planHashes[c.plan] as string,
        approver: 'owner',
        decided_at: DECIDED_AT,
        expires_at: EXPIRES_AT,
        ...(c.fields.reason !== undefined ? { reason: c.fields.reason } : {}),
      },
      TEST_KEYS.warden_test.privateKey,
    );
    const signed = canonicalRecord(without(decision as unknown as Record<string, unknown>, 'signature'));
    return {
      name: c.name,
      plan: c.plan,
      signed_by: 'warden_test',
      decision,
      signed_canonical_utf8: signed.canonical_utf8,
      signed_canonical_hex: signed.canonical_hex,
      signature: decision.signature,
    };
  });

  const first = decisions[0]?.decision as ApprovalDecision;
  const refusals = refusalCases(first, planHashes).map((c) => {
    const verdict =
      c.received_text !== undefined
        ? verifyDecisionText(c.received_text, keyring)
        : verifyDecision(c.received, keyring);
    const acceptance = acceptDecision({
      verdict,
      parked: c.parked,
      alreadyConsumed: c.already_consumed,
      now: parseRfc3339Utc(c.now) as number,
      skewMs: 30_000,
    });
    return {
      ...c,
      keyring: ['warden_test'],
      skew_ms: 30_000,
      expected_verdict: verdict.ok ? { ok: true } : { ok: false, reason: verdict.reason },
      expected_acceptance:
        acceptance.outcome === 'accept'
          ? { outcome: 'accept' }
          : { outcome: acceptance.outcome, reason: acceptance.reason },
    };
  });

  return {
    description:
      'Approval test vectors for the Ghost bus contract v1.6 (helm.approval-decision.v1, plan_version 1). ' +
      'canonical_* is RFC 8785 (JCS); plan_hash is the lowercase hex SHA-256 of the canonical UTF-8 bytes; ' +
      'a signature is the standard base64 (with padding) Ed25519 signature over signed_canonical_utf8. ' +
      'Refusals: verify the received decision (object, or received_text as JSON text) with the keyring, then ' +
      'apply the acceptance rules with parked, already_consumed, now and skew_ms. Generated by scripts/generate-vectors.ts.',
    test_keys_warning:
      'TEST KEYS ONLY. These private keys are published on purpose so anyone can reproduce the vectors. ' +
      'Never configure them as a Warden key anywhere.',
    keys: Object.fromEntries(
      (Object.keys(TEST_KEYS) as KeyName[]).map((name) => [
        name,
        {
          private_key_pkcs8_pem: TEST_KEYS[name].privateKey
            .export({ type: 'pkcs8', format: 'pem' })
            .toString(),
          public_key_spki_pem: TEST_KEYS[name].publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          key_id: keyIdOf(TEST_KEYS[name].publicKey),
        },
      ]),
    ),
    plans: Object.entries(planList).map(([name, plan]) => ({
      name,
      plan,
      ...canonicalRecord(plan),
      plan_hash: planHashes[name],
    })),
    decisions,
    acceptance_time: { now: new Date(BEFORE_EXPIRY_MS).toISOString(), skew_ms: 30_000 },
    refusals,
    jcs: JCS_CASES.map((c) =>
      'refused' in c
        ? c
        : { ...c, canonical_hex: Buffer.from(c.canonical_utf8 as string, 'utf8').toString('hex') },
    ),
  };
}

export function renderApprovalVectors(): string {
  return `${JSON.stringify(buildApprovalVectors(), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(VECTORS_PATH, renderApprovalVectors());
  console.log(`wrote ${VECTORS_PATH}`);
}
