// The gate's decision path as a property, on the real Redis: random sequences of parked requests and
// decisions on helm.approvals (genuine, duplicated, replayed, expired, every field mutated, wrong or
// removed or rotated-out keys, swapped approval ids, ended and lost requests, run-log outages, and two
// consumers racing) are driven through two real decision handlers (makeDecisionHandler over a real
// ParkedStore, a real BullMQ helm.actions queue to wake, the real ledger). An independent model says
// what each delivery must come to; after every sequence Redis, the ledgers, the run logs, the alerts
// and the parked jobs are checked against it and against the gate's promises:
//   (1) a request ends approved/denied only by a genuine, unexpired decision from a key in the keyring
//       for exactly its approval_id and plan_hash;
//   (2) it is consumed at most once, by the first valid decision; each valid approval exactly once;
//   (3) the ledger shows a consumption exactly for the consumed requests (whose run-log entry was
//       written), each naming its own job id;
//   (4) forgeries, mutations, wrong keys and plan mismatches are 'security' (alerted) or 'info', never
//       'accepted'.
// The pure half (verifyDecision + acceptDecision) gets a property of its own, with more runs.
import { createHash, generateKeyPairSync, type KeyObject, randomUUID, sign } from 'node:crypto';
import { type Job, Queue } from 'bullmq';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acceptDecision,
  decisionSigningText,
  type Keyring,
  keyIdOf,
  parseKeyring,
  planHash,
  signDecision,
  verifyDecision,
} from '../../../src/approval/index.js';
import type { Alert } from '../../../src/contracts/index.js';
import type { AlertInput, AlertSender } from '../../../src/bus/alert-sender.js';
import { makeManualClock } from '../../../src/base/clock.js';
import {
  type ApprovalRequest,
  ApprovalRequestSchema,
  type Plan,
  PlanSchema,
} from '../../../src/contracts/index.js';
import { type ApprovalLedger, makeApprovalLedger } from '../../../src/runlog/approval-ledger.js';
import { type DecisionOutcome, makeDecisionHandler } from '../../../src/gate/handle-decision.js';
import { makeParkedStore, type ParkedStore } from '../../../src/gate/parked-store.js';
import { helmKey } from '../../../src/bus/queue-names.js';
import type { RunLog, RunLogEntry, RunLogEntryInput } from '../../../src/runlog/index.js';
import { DEFAULT_TEST_REDIS_URL } from '../../helpers/global-setup.js';
import { freshPrefix } from '../../helpers/queue-prefix.js';

const REDIS_URL = process.env['HELM_TEST_REDIS_URL'] ?? DEFAULT_TEST_REDIS_URL;
/** Sequences driven through the real handlers and Redis. */
const REDIS_RUNS = 2000;
/** Single decisions through the pure verifyDecision + acceptDecision. */
const PURE_RUNS = 5000;
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const HOUR = 3_600_000;

// ---------------------------------------------------------------------------------------------------
// Keys: 0, 1 and 2 can be in the keyring (0 always is; 1 and 2 rotate in and out); 3 is a removed key
// that still signs but is never configured.
// ---------------------------------------------------------------------------------------------------
interface TestKey {
  privateKey: KeyObject;
  pem: string;
  id: string;
}
const KEYS: TestKey[] = [0, 1, 2, 3].map(() => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    privateKey,
    pem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    id: keyIdOf(publicKey),
  };
});
const REMOVED_KEY = 3;
/** A well-formed key_id that names no key at all. */
const BOGUS_KEY_ID = '0123456789abcdef';
const KEY_INDEX = new Map(KEYS.map((k, i) => [k.id, i]));

/** Keyrings parsed by the real parser, one per set of configured keys (a bitmask over keys 0–2). */
const KEYRINGS = new Map<number, Keyring>();
for (let mask = 1; mask < 8; mask++) {
  const pems = KEYS.slice(0, 3)
    .filter((_, i) => mask & (1 << i))
    .map((k) => k.pem);
  KEYRINGS.set(mask, parseKeyring(`# Warden keys (rotation)\n${pems.join('\n')}`));
}

// ---------------------------------------------------------------------------------------------------
// Plans and parked requests
// ---------------------------------------------------------------------------------------------------
const hex = (s: string) => createHash('sha256').update(s).digest('hex');

interface PlanSeed {
  action: 'restart' | 'stop' | 'scale';
  service: number;
  n: number;
  containers: number;
  withRequestId: boolean;
}

const planCache = new Map<string, { plan: Plan; hash: string }>();

/** The plan of a seed and its hash, built (and schema-checked) once per seed. */
function planOf(seed: PlanSeed): { plan: Plan; hash: string } {
  const key = JSON.stringify([seed.action, seed.service, seed.n, seed.containers, seed.withRequestId]);
  let hit = planCache.get(key);
  if (!hit) {
    const plan = buildPlan(seed);
    hit = { plan, hash: planHash(plan) };
    // The request parked for it must be one the gate could have sent.
    ApprovalRequestSchema.parse(approvalRequestFor(plan, hit.hash, randomUUID(), T0));
    planCache.set(key, hit);
  }
  return hit;
}

function buildPlan(seed: PlanSeed): Plan {
  const service = `svc-${seed.service}`;
  const ids = Array.from({ length: seed.containers }, (_, c) => hex(`${service}/${c}`)).sort();
  return PlanSchema.parse({
    plan_version: 1,
    action: seed.action,
    host: 'local',
    service,
    environment: 'production',
    request_id: seed.withRequestId ? `prop:${service}-${seed.n}` : null,
    requested_by: seed.withRequestId ? 'forge' : null,
    preconditions: {
      containers: ids.map((id) => ({
        id,
        image_id: `sha256:${hex(`${id}/image`)}`,
        config_hmac: hex(`${id}/c`),
      })),
    },
    desired:
      seed.action === 'scale'
        ? { replicas: seed.n % 51, remove_containers: [] }
        : { timeout_s: 1 + (seed.n % 600) },
  });
}

function approvalRequestFor(plan: Plan, hash: string, approvalId: string, now: number): ApprovalRequest {
  // The request's params are the plan's desired state, less what only a plan says (which scale removes).
  const { remove_containers: _planOnly, ...desired } = plan.desired as Record<string, unknown>;
  return {
    type: 'helm.approval-request.v1',
    approval_id: approvalId,
    plan_hash: hash,
    plan,
    steps: [`${plan.action} ${plan.service}`],
    request: {
      action: plan.action,
      target: plan.service,
      environment: 'production',
      reason: 'property test',
      params: desired,
      ...(plan.request_id ? { request_id: plan.request_id } : {}),
    },
    requested_at: new Date(now).toISOString(),
    expires_at: new Date(now + HOUR).toISOString(),
  } as ApprovalRequest;
}

// ---------------------------------------------------------------------------------------------------
// What a delivery is (the generator's vocabulary), and how it becomes job data
// ---------------------------------------------------------------------------------------------------
type Verdict = 'approved' | 'denied';
interface Genuine {
  req: number;
  decision: Verdict;
  /** Which key signs: 0–2 may be configured, 3 is the removed key. */
  signer: number;
  /** expires_at = now + ttl (− skew when `minusSkew`): boundaries around now + skew are weighted in. */
  ttl: number;
  minusSkew: boolean;
  /** expires_at written with milliseconds (0), without a fraction (1), or with 9 digits (2). */
  fmt: 0 | 1 | 2;
  reason: string | null;
}
type DecisionSpec =
  | { t: 'genuine'; g: Genuine }
  | { t: 'swap'; g: Genuine; other: number }
  | { t: 'unknown-id'; g: Genuine }
  | { t: 'other-plan'; g: Genuine }
  | { t: 'mutate'; g: Genuine; m: number; k: number }
  | { t: 'wrong-key'; g: Genuine; claim: number }
  | { t: 'copy'; back: number }
  | { t: 'junk'; j: number };
type Step =
  | { t: 'deliver'; via: 0 | 1; d: DecisionSpec }
  | {
      t: 'race';
      a: DecisionSpec;
      b: DecisionSpec | 'same' | { end: number; status: 'expired' | 'cancelled' };
    }
  | { t: 'advance'; ms: number }
  | { t: 'end'; req: number; status: 'expired' | 'cancelled' }
  | { t: 'lose'; req: number }
  | { t: 'rollback'; req: number }
  | { t: 'rotate'; key: 1 | 2 }
  | { t: 'log-down'; via: 0 | 1; down: boolean };
interface Scenario {
  plans: PlanSeed[];
  skewMs: number;
  /** One Helm process with two gate workers (one ledger, one run log), or two processes. */
  sharedProcess: boolean;
  ringMask: number;
  steps: Step[];
  /**
   * Let a Redis rollback hit a consumption that another process's ledger never saw (see the it.fails
   * below). Otherwise a rollback only happens where the run log must cover it: one process, logged.
   */
  rollbackAcrossProcesses?: boolean;
}

/** What the test knows about a delivered object, by construction (never by asking the code under test). */
interface Meta {
  kind: string;
  wellFormed: boolean;
  /** Index of the key its key_id names; -1 for a key_id naming no key. */
  claim: number;
  /** The signature is the claimed key's over exactly this object's content. */
  authentic: boolean;
  approval_id: string;
  plan_hash: string;
  decision: Verdict;
  expiresMs: number;
}
interface Delivered {
  data: unknown;
  meta: Meta;
}

interface Mutation {
  name: string;
  /** Returns the mutated decision (as it would arrive) and whether it is still well-formed. */
  apply(d: Record<string, unknown>, x: MutationContext): { data: unknown; wellFormed: boolean };
}
interface MutationContext {
  k: number;
  /** Another parked request's approval_id (or a fresh one). */
  otherId: string;
  /** A plan hash other than the decision's. */
  otherHash: string;
  /** A valid signature of a different decision. */
  siblingSignature(): string;
  signer: number;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const L25519 = (1n << 252n) + 27742317777372353535851937790883648493n;

/** The same Ed25519 signature with S replaced by S + L: a classic malleation, which must not verify. */
function malleate(signature: string): string {
  const sig = Buffer.from(signature, 'base64');
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i] as number);
  let t = s + L25519;
  for (let i = 0; i < 32; i++) {
    sig[32 + i] = Number(t & 0xffn);
    t >>= 8n;
  }
  return sig.toString('base64');
}

const set = (field: string, value: unknown, wellFormed: boolean): Mutation => ({
  name: `${field}:${JSON.stringify(value).slice(0, 30)}`,
  apply: (d: Record<string, unknown>) => ({ data: { ...d, [field]: value }, wellFormed }),
});
const del = (field: string): Mutation => ({
  name: `${field}:removed`,
  apply: (d) => {
    const { [field]: _gone, ...rest } = d;
    return { data: rest, wellFormed: false };
  },
});
const withText = (name: string, extra: string): Mutation => ({
  name,
  // Built as text so that keys JSON.parse treats specially (__proto__) arrive as own fields, as from Redis.
  apply: (d) => ({ data: JSON.parse(`${JSON.stringify(d).slice(0, -1)},${extra}}`), wellFormed: false }),
});
const iso = (d: Record<string, unknown>, field: string, ms: number) =>
  new Date(Date.parse(String(d[field]).replace(/(\.\d{3})\d*Z$/, '$1Z')) + ms).toISOString();

/** Every field, mutated every way that matters. Each keeps or breaks the schema, as stated. */
const MUTATIONS: Mutation[] = [
  set('type', 'helm.approval-decision.v2', false),
  set('type', 'helm.approval-request.v1', false),
  del('type'),
  {
    name: 'approval_id:fresh uuid',
    apply: (d) => ({ data: { ...d, approval_id: randomUUID() }, wellFormed: true }),
  },
  {
    name: 'approval_id:another parked',
    apply: (d, x) => ({ data: { ...d, approval_id: x.otherId }, wellFormed: true }),
  },
  {
    name: 'approval_id:upper case',
    apply: (d) => ({
      data: { ...d, approval_id: `A${String(d['approval_id']).slice(1)}` },
      wellFormed: false,
    }),
  },
  set('approval_id', 'not-a-uuid', false),
  del('approval_id'),
  {
    name: 'decision:flipped',
    apply: (d) => ({
      data: { ...d, decision: d['decision'] === 'approved' ? 'denied' : 'approved' },
      wellFormed: true,
    }),
  },
  set('decision', 'approve', false),
  set('decision', 'APPROVED', false),
  del('decision'),
  {
    name: 'plan_hash:another plan',
    apply: (d, x) => ({ data: { ...d, plan_hash: x.otherHash }, wellFormed: true }),
  },
  {
    name: 'plan_hash:upper case',
    apply: (d) => ({ data: { ...d, plan_hash: `A${String(d['plan_hash']).slice(1)}` }, wellFormed: false }),
  },
  {
    name: 'plan_hash:sha256: prefix',
    apply: (d) => ({ data: { ...d, plan_hash: `sha256:${d['plan_hash']}` }, wellFormed: false }),
  },
  del('plan_hash'),
  set('approver', 'mallory', true),
  set('approver', '', false),
  set('approver', '   ', false),
  set('approver', 'a'.repeat(129), false),
  del('approver'),
  {
    name: 'key_id:another configured key',
    apply: (d, x) => ({ data: { ...d, key_id: KEYS[(x.signer + 1 + (x.k % 2)) % 3]!.id }, wellFormed: true }),
  },
  {
    name: "key_id:the removed key's",
    apply: (d, x) => ({
      // A decision signed by the removed key is re-labelled with key 0's id instead.
      data: { ...d, key_id: KEYS[x.signer === REMOVED_KEY ? 0 : REMOVED_KEY]!.id },
      wellFormed: true,
    }),
  },
  set('key_id', BOGUS_KEY_ID, true),
  {
    name: 'key_id:upper case',
    apply: (d) => ({ data: { ...d, key_id: `A${String(d['key_id']).slice(1)}` }, wellFormed: false }),
  },
  del('key_id'),
  {
    name: 'decided_at:+1s',
    apply: (d) => ({ data: { ...d, decided_at: iso(d, 'decided_at', 1000) }, wellFormed: true }),
  },
  {
    name: 'decided_at:same instant, other text',
    apply: (d) => ({
      data: { ...d, decided_at: String(d['decided_at']).replace('Z', '000Z') },
      wellFormed: true,
    }),
  },
  {
    name: 'decided_at:lower-case z',
    apply: (d) => ({
      data: { ...d, decided_at: String(d['decided_at']).replace('Z', 'z') },
      wellFormed: false,
    }),
  },
  del('decided_at'),
  {
    name: 'expires_at:+1h',
    apply: (d) => ({ data: { ...d, expires_at: iso(d, 'expires_at', HOUR) }, wellFormed: true }),
  },
  {
    name: 'expires_at:+1 year',
    apply: (d) => ({ data: { ...d, expires_at: iso(d, 'expires_at', 365 * 24 * HOUR) }, wellFormed: true }),
  },
  set('expires_at', '2026-02-30T00:00:00.000Z', false),
  {
    name: 'expires_at:offset instead of Z',
    apply: (d) => ({
      data: { ...d, expires_at: String(d['expires_at']).replace('Z', '+00:00') },
      wellFormed: false,
    }),
  },
  set('expires_at', 1893456000000, false),
  del('expires_at'),
  {
    name: 'reason:added or removed',
    apply: (d) => {
      if (d['reason'] === undefined) return { data: { ...d, reason: 'added later' }, wellFormed: true };
      const { reason: _gone, ...rest } = d;
      return { data: rest, wellFormed: true };
    },
  },
  {
    name: 'reason:changed',
    apply: (d) => ({ data: { ...d, reason: `${d['reason'] ?? ''}!` }, wellFormed: true }),
  },
  set('reason', null, false),
  set('reason', '', false),
  set('reason', ' ', false),
  {
    name: "signature:another decision's",
    apply: (d, x) => ({ data: { ...d, signature: x.siblingSignature() }, wellFormed: true }),
  },
  {
    name: 'signature:one character changed',
    apply: (d, x) => {
      const s = String(d['signature']);
      const at = x.k % 85;
      const c = B64[(B64.indexOf(s[at] as string) + 1 + (x.k % 63)) % 64];
      return { data: { ...d, signature: s.slice(0, at) + c + s.slice(at + 1) }, wellFormed: true };
    },
  },
  {
    name: 'signature:malleated (S + L)',
    apply: (d) => ({ data: { ...d, signature: malleate(String(d['signature'])) }, wellFormed: true }),
  },
  {
    name: 'signature:truncated',
    apply: (d) => ({ data: { ...d, signature: String(d['signature']).slice(0, 86) }, wellFormed: false }),
  },
  {
    name: 'signature:unused bits set',
    apply: (d) => ({
      data: { ...d, signature: `${String(d['signature']).slice(0, 85)}B==` },
      wellFormed: false,
    }),
  },
  {
    name: 'signature:base64url',
    apply: (d) => ({
      data: { ...d, signature: `${String(d['signature']).slice(0, 84).replace(/[+/]/g, '-')}-A==` },
      wellFormed: false,
    }),
  },
  set('signature', null, false),
  del('signature'),
  withText('extra:note', '"note":"also restart the db"'),
  withText('extra:__proto__', '"__proto__":{"decision":"approved"}'),
  withText('extra:constructor', '"constructor":"x"'),
  withText('extra:17 KiB', `"pad":"${'x'.repeat(17 * 1024)}"`),
];
const FORGING_MUTATIONS = MUTATIONS.length;

/** Data that is not a decision at all. */
const JUNK: Array<{ name: string; data: unknown }> = [
  { name: 'null', data: null },
  { name: 'array', data: [] },
  { name: 'string', data: 'approved' },
  { name: 'number', data: 42 },
  { name: 'empty object', data: {} },
];

// ---------------------------------------------------------------------------------------------------
// The model: what each delivery must come to, given what Redis and the ledgers hold
// ---------------------------------------------------------------------------------------------------
type Status = 'parked' | 'approved' | 'denied' | 'expired' | 'cancelled' | 'lost';
interface ReqModel {
  approval_id: string;
  plan_hash: string;
  job_id: string;
  status: Status;
  consumed: { delivery: number; via: number; proc: number; logged: boolean; decision: Verdict } | null;
  /** The request's own deadline (its ApprovalRequest's expires_at), epoch ms; none when omitted. */
  deadline?: number;
  /** Redis came back from a crash without the consumption (AOF fsyncs once a second): parked again. */
  rolledBack?: boolean;
}
interface ProcModel {
  ledger: string[];
  down: boolean;
}
interface ModelState {
  reqs: ReqModel[];
  procs: ProcModel[];
  ring: number;
  now: number;
  skewMs: number;
}
interface Expected {
  outcome: DecisionOutcome['outcome'];
  reason: string;
}

const inRing = (mask: number, key: number) => key >= 0 && key < 3 && (mask & (1 << key)) !== 0;

/** The contract's rules, applied to what the test knows; updates `s` when the decision is consumed. */
function predict(meta: Meta, s: ModelState, proc: number, delivery: number, via: number): Expected {
  if (!meta.wellFormed) return { outcome: 'security', reason: 'malformed' };
  if (!inRing(s.ring, meta.claim)) return { outcome: 'security', reason: 'unknown_key' };
  if (!meta.authentic) return { outcome: 'security', reason: 'bad_signature' };
  const r = s.reqs.find((x) => x.approval_id === meta.approval_id);
  if (r && (r.status === 'approved' || r.status === 'denied')) return { outcome: 'info', reason: 'repeat' };
  if (s.procs[proc]!.ledger.includes(meta.approval_id)) return { outcome: 'info', reason: 'repeat' };
  if (r?.status !== 'parked') return { outcome: 'info', reason: 'ended' };
  if (r.plan_hash !== meta.plan_hash) return { outcome: 'security', reason: 'plan_mismatch' };
  if (!(s.now < meta.expiresMs + s.skewMs)) return { outcome: 'info', reason: 'late' };
  // The request's own deadline counts even before its timer fires (no skew: it is Helm's own clock).
  if (r.deadline !== undefined && !(s.now < r.deadline)) return { outcome: 'info', reason: 'late' };
  const logged = !s.procs[proc]!.down;
  r.status = meta.decision;
  r.consumed = { delivery, via, proc, logged, decision: meta.decision };
  // Kept sorted: a ledger is a set, and two orders of a race must compare equal when they are.
  if (logged) s.procs[proc]!.ledger = [...s.procs[proc]!.ledger, meta.approval_id].sort();
  return { outcome: 'accepted', reason: meta.decision };
}

function endModel(s: ModelState, req: number, status: 'expired' | 'cancelled'): boolean {
  const r = s.reqs[req]!;
  if (r.status !== 'parked') return false;
  r.status = status;
  return true;
}

// ---------------------------------------------------------------------------------------------------
// The real side: connections, handlers, an in-memory run log, a recording alert sender
// ---------------------------------------------------------------------------------------------------
interface MemoryRunLog extends RunLog {
  entries: RunLogEntry[];
  down: boolean;
}

function memoryRunLog(now: () => Date): MemoryRunLog {
  const log: MemoryRunLog = {
    path: ':memory:',
    entries: [],
    down: false,
    async append(e: RunLogEntryInput) {
      // A write takes a turn of the event loop, as a disk write does: racing handlers interleave here.
      await new Promise((resolve) => setImmediate(resolve));
      if (log.down) throw new Error('run log unavailable (test)');
      const entry: RunLogEntry = {
        seq: log.entries.length + 1,
        at: now().toISOString(),
        event: e.event,
        job_id: e.job_id ?? null,
        request_id: e.request_id ?? null,
        action: e.action ?? null,
        target: e.target ?? null,
        environment: e.environment ?? null,
        approval_id: e.approval_id ?? null,
        code: e.code ?? null,
        message: e.message,
        mac: '',
      };
      log.entries.push(entry);
      return entry;
    },
    async appendMany(es) {
      const out: RunLogEntry[] = [];
      for (const e of es) out.push(await log.append(e));
      return out;
    },
    status: () => ({ healthy: !log.down, since: now().toISOString(), reason: null }),
    onHealthChange: () => () => undefined,
    close: async () => undefined,
  };
  return log;
}

interface RecordedAlert {
  input: AlertInput;
  via: number;
}

const silent = pino({ level: 'silent' });

interface Bed {
  prefix: string;
  conns: [Redis, Redis];
  stores: [ParkedStore, ParkedStore];
  queues: [Queue, Queue];
}

async function openBed(prefix: string): Promise<Bed> {
  const conns: [Redis, Redis] = [
    new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
    new Redis(REDIS_URL, { maxRetriesPerRequest: null }),
  ];
  const queues: [Queue, Queue] = [
    new Queue('helm.actions', { connection: conns[0], prefix }),
    new Queue('helm.actions', { connection: conns[1], prefix }),
  ];
  await Promise.all(queues.map((q) => q.waitUntilReady()));
  return {
    prefix,
    conns,
    stores: [makeParkedStore(conns[0], prefix), makeParkedStore(conns[1], prefix)],
    queues,
  };
}

async function closeBed(bed: Bed): Promise<void> {
  await Promise.all(bed.queues.map((q) => q.close()));
  // Everything this file wrote lives under its prefix.
  let cursor = '0';
  do {
    const [next, keys] = await bed.conns[0].scan(cursor, 'MATCH', `${bed.prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await bed.conns[0].unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
  bed.conns.forEach((c) => {
    c.disconnect();
  });
}

// ---------------------------------------------------------------------------------------------------
// Running one scenario
// ---------------------------------------------------------------------------------------------------
interface DeliveryRecord {
  n: number;
  via: number;
  kind: string;
  data: unknown;
  meta: Meta;
  at: number;
  ring: number;
  /** The request was parked, the key configured, the content authentic and for its id and plan, unexpired. */
  validAtDelivery: boolean;
  /** Deliveries handed to the two handlers at once share a race number. */
  race: number | null;
  /** The handling process's run log was up. */
  logUp: boolean;
  expected: Expected;
  actual: DecisionOutcome;
}
interface RunResult {
  records: DeliveryRecord[];
  reqs: ReqModel[];
  alerts: RecordedAlert[];
}

const tally = new Map<string, number>();
const count = (key: string) => tally.set(key, (tally.get(key) ?? 0) + 1);

let runSeq = 0;

/**
 * Runs one scenario through the real handlers. With `check` (the default) every outcome must be the
 * model's and the invariants must hold afterwards; without it the outcomes are only recorded, for the
 * it.fails cases whose model is the code's current (wrong) behaviour.
 */
async function runScenario(bed: Bed, sc: Scenario, check = true): Promise<RunResult> {
  const tag = `r${++runSeq}-${randomUUID().slice(0, 8)}`;
  const clock = makeManualClock(new Date(T0));
  const reqs: ReqModel[] = [];
  await Promise.all(
    sc.plans.map(async (seed, i) => {
      const { plan, hash } = planOf(seed);
      const approvalRequest = approvalRequestFor(plan, hash, randomUUID(), T0);
      const jobId = `${tag}-job${i}`;
      reqs[i] = {
        approval_id: approvalRequest.approval_id,
        plan_hash: approvalRequest.plan_hash,
        job_id: jobId,
        status: 'parked',
        consumed: null,
        deadline: T0 + HOUR,
      };
      // The request's own job waits delayed on helm.actions, as the gate leaves it; a decision wakes it.
      await bed.queues[0].add('request', { i }, { jobId, delay: HOUR });
      await bed.stores[0].park(approvalRequest, jobId, 25 * HOUR);
    }),
  );
  const s: ModelState = {
    reqs,
    procs: sc.sharedProcess
      ? [{ ledger: [], down: false }]
      : [
          { ledger: [], down: false },
          { ledger: [], down: false },
        ],
    ring: sc.ringMask,
    now: T0,
    skewMs: sc.skewMs,
  };
  const procOf = (via: number) => (sc.sharedProcess ? 0 : via);
  const ledgers: ApprovalLedger[] = s.procs.map(() => makeApprovalLedger());
  const runLogs: MemoryRunLog[] = s.procs.map(() => memoryRunLog(() => clock.now()));
  const alerts: RecordedAlert[] = [];
  const handlers = [0, 1].map((via) => {
    const sender: AlertSender = {
      async send(input) {
        alerts.push({ input, via });
        return { alert_id: randomUUID(), at: clock.now().toISOString(), ...input } as Alert;
      },
    };
    return makeDecisionHandler({
      keyring: () => KEYRINGS.get(s.ring)!,
      // These jobs are not in Redis: their data is the text, as the real handler reads it there.
      jobDataText: async (j) => JSON.stringify(j.data),
      parked: bed.stores[via]!,
      ledger: ledgers[procOf(via)]!,
      runLog: runLogs[procOf(via)]!,
      alerts: sender,
      actionsQueue: bed.queues[via]!,
      clock,
      logger: silent,
      skewMs: sc.skewMs,
    });
  });

  const history: Delivered[] = [];
  const records: DeliveryRecord[] = [];
  const n = reqs.length;

  const genuineFields = (g: Genuine, approvalId: string, hash: string) => {
    const expiresRaw = s.now + g.ttl - (g.minusSkew ? sc.skewMs : 0);
    const isoText = new Date(expiresRaw).toISOString();
    const expires_at =
      g.fmt === 0
        ? isoText
        : g.fmt === 1
          ? isoText.replace(/\.\d{3}Z$/, 'Z')
          : isoText.replace('Z', '999999Z');
    // Digits beyond the millisecond are dropped; no fraction means the whole second.
    const expiresMs = g.fmt === 1 ? Math.floor(expiresRaw / 1000) * 1000 : expiresRaw;
    return {
      fields: {
        approval_id: approvalId,
        decision: g.decision,
        plan_hash: hash,
        approver: 'warden',
        decided_at: new Date(s.now).toISOString(),
        expires_at,
        ...(g.reason !== null ? { reason: g.reason } : {}),
      },
      expiresMs,
    };
  };
  const signedBy = (fields: ReturnType<typeof genuineFields>['fields'], key: number) =>
    signDecision(fields, KEYS[key]!.privateKey) as unknown as Record<string, unknown>;
  const genuineMeta = (
    kind: string,
    g: Genuine,
    approvalId: string,
    hash: string,
    expiresMs: number,
  ): Meta => ({
    kind,
    wellFormed: true,
    claim: g.signer,
    authentic: true,
    approval_id: approvalId,
    plan_hash: hash,
    decision: g.decision,
    expiresMs,
  });
  const claimOf = (data: unknown): number => {
    const id = data && typeof data === 'object' ? (data as Record<string, unknown>)['key_id'] : undefined;
    return typeof id === 'string' ? (KEY_INDEX.get(id) ?? -1) : -1;
  };
  const roundTrip = (data: unknown) => JSON.parse(JSON.stringify(data)) as unknown;

  /** Turns a spec into the object that arrives on helm.approvals, and what the test knows about it. */
  function materialise(spec: DecisionSpec): Delivered | null {
    if (spec.t === 'copy') {
      if (history.length === 0) return null;
      const original = history[history.length - 1 - (spec.back % history.length)]!;
      return { data: original.data, meta: { ...original.meta, kind: `copy of ${original.meta.kind}` } };
    }
    if (spec.t === 'junk') {
      const junk = JUNK[spec.j % JUNK.length]!;
      const meta: Meta = {
        kind: `junk:${junk.name}`,
        wellFormed: false,
        claim: -1,
        authentic: false,
        approval_id: '',
        plan_hash: '',
        decision: 'approved',
        expiresMs: 0,
      };
      return { data: roundTrip(junk.data), meta };
    }
    const g = spec.g;
    const r = reqs[g.req % n]!;
    if (spec.t === 'genuine' || spec.t === 'unknown-id' || spec.t === 'other-plan' || spec.t === 'swap') {
      let approvalId = r.approval_id;
      let hash = r.plan_hash;
      let kind = g.signer === REMOVED_KEY ? 'removed key' : 'genuine';
      if (spec.t === 'unknown-id') {
        approvalId = randomUUID();
        kind = 'unknown approval_id';
      } else if (spec.t === 'other-plan') {
        hash = planOf({ ...sc.plans[g.req % n]!, n: sc.plans[g.req % n]!.n + 1 }).hash;
        kind = hash === r.plan_hash ? kind : 'other plan';
      } else if (spec.t === 'swap') {
        const other = reqs[(g.req + 1 + spec.other) % n]!;
        if (other !== r) {
          // Warden's genuine signature over another request's id with this request's plan hash.
          approvalId = other.approval_id;
          kind = hash === other.plan_hash ? 'swapped ids (same plan)' : 'swapped ids';
        }
      }
      const { fields, expiresMs } = genuineFields(g, approvalId, hash);
      const data = signedBy(fields, g.signer);
      return { data: roundTrip(data), meta: genuineMeta(kind, g, approvalId, hash, expiresMs) };
    }
    if (spec.t === 'wrong-key') {
      // Claims one key, signed by another (the removed key included).
      const claim = spec.claim === g.signer ? (spec.claim + 1) % 4 : spec.claim;
      const { fields, expiresMs } = genuineFields(g, r.approval_id, r.plan_hash);
      const unsigned = { type: 'helm.approval-decision.v1', ...fields, key_id: KEYS[claim]!.id };
      const signature = sign(
        null,
        Buffer.from(decisionSigningText(unsigned), 'utf8'),
        KEYS[g.signer]!.privateKey,
      ).toString('base64');
      const meta = genuineMeta('wrong key', g, r.approval_id, r.plan_hash, expiresMs);
      return { data: roundTrip({ ...unsigned, signature }), meta: { ...meta, claim, authentic: false } };
    }
    // A mutation of a genuine decision.
    const { fields, expiresMs } = genuineFields(g, r.approval_id, r.plan_hash);
    const base = signedBy(fields, g.signer);
    const other = reqs[(g.req + 1) % n]!;
    const mutation = MUTATIONS[spec.m % FORGING_MUTATIONS]!;
    const { data, wellFormed } = mutation.apply(base, {
      k: spec.k,
      otherId: other === r ? randomUUID() : other.approval_id,
      otherHash: other.plan_hash === r.plan_hash ? hex(`other-${spec.k}`) : other.plan_hash,
      siblingSignature: () => String(signedBy({ ...fields, approver: 'warden-2' }, g.signer)['signature']),
      signer: g.signer,
    });
    const arrived = roundTrip(data);
    if (JSON.stringify(arrived) === JSON.stringify(base))
      throw new Error(`mutation ${mutation.name} changed nothing`);
    const meta = genuineMeta(`mutated ${mutation.name}`, g, r.approval_id, r.plan_hash, expiresMs);
    return { data: arrived, meta: { ...meta, wellFormed, claim: claimOf(arrived), authentic: false } };
  }

  let deliveries = 0;
  const validNow = (meta: Meta) => {
    const r = reqs.find((x) => x.approval_id === meta.approval_id);
    return (
      meta.wellFormed &&
      meta.authentic &&
      inRing(s.ring, meta.claim) &&
      r !== undefined &&
      r.status === 'parked' &&
      r.plan_hash === meta.plan_hash &&
      s.now < meta.expiresMs + sc.skewMs &&
      (r.deadline === undefined || s.now < r.deadline)
    );
  };
  const record = (
    d: Delivered,
    via: number,
    nDelivery: number,
    valid: boolean,
    expected: Expected,
    actual: DecisionOutcome,
    race: number | null = null,
  ) => {
    records.push({
      race,
      logUp: !s.procs[procOf(via)]!.down,
      n: nDelivery,
      via,
      kind: d.meta.kind,
      data: d.data,
      meta: d.meta,
      at: s.now,
      ring: s.ring,
      validAtDelivery: valid,
      expected,
      actual,
    });
    count(`${d.meta.kind.replace(/^copy of .*/, 'duplicate delivery')} → ${actual.outcome}:${actual.reason}`);
  };
  const job = (d: Delivered, k: number) => ({ id: `${tag}-d${k}`, data: d.data }) as unknown as Job;
  const describeStep = (i: number) => `step ${i} of ${JSON.stringify(sc.steps.map((x) => x.t))}`;

  for (const [i, step] of sc.steps.entries()) {
    switch (step.t) {
      case 'advance':
        clock.advance(step.ms);
        s.now = clock.now().getTime();
        break;
      case 'rotate':
        s.ring ^= 1 << step.key;
        break;
      case 'log-down':
        s.procs[procOf(step.via)]!.down = step.down;
        runLogs[procOf(step.via)]!.down = step.down;
        break;
      case 'end': {
        const r = step.req % n;
        const expected = endModel(s, r, step.status);
        const ended = await bed.stores[0].end(reqs[r]!.approval_id, step.status, clock.now());
        expect(ended, `end(${step.status}) of request ${r} at ${describeStep(i)}`).toBe(expected);
        break;
      }
      case 'lose': {
        // Redis lost this request's record (a restart without AOF, a flush): the ledger must still hold.
        const r = reqs[step.req % n]!;
        await bed.conns[0].del(helmKey(bed.prefix, 'parked', r.approval_id));
        if (r.status !== 'lost') count(`(Redis lost a ${r.status} record)`);
        r.status = 'lost';
        break;
      }
      case 'rollback': {
        // Redis restarted having lost its last second of writes: the consumption is gone, the record
        // is parked again. The run log (and so the ledger) still has it; a replay must not win twice.
        const r = reqs[step.req % n]!;
        const covered = sc.sharedProcess && r.consumed?.logged === true;
        if ((r.status !== 'approved' && r.status !== 'denied') || !(covered || sc.rollbackAcrossProcesses))
          break;
        const key = helmKey(bed.prefix, 'parked', r.approval_id);
        await bed.conns[0]
          .multi()
          .hset(key, 'status', 'parked')
          .hdel(key, 'decision_json', 'ended_at')
          .sadd(helmKey(bed.prefix, 'parked-index'), r.approval_id)
          .exec();
        r.status = 'parked';
        r.rolledBack = true;
        count('(Redis rolled a logged consumption back)');
        break;
      }
      case 'deliver': {
        const d = materialise(step.d);
        if (!d) break;
        history.push(d);
        const k = ++deliveries;
        const valid = validNow(d.meta);
        const expected = predict(d.meta, s, procOf(step.via), k, step.via);
        const actual = await handlers[step.via]!(job(d, k));
        record(d, step.via, k, valid, expected, actual);
        if (check)
          expect(
            { outcome: actual.outcome, reason: actual.reason },
            `${d.meta.kind} via handler ${step.via} at ${describeStep(i)}`,
          ).toEqual(expected);
        break;
      }
      case 'race': {
        const a = materialise(step.a);
        if (!a) break;
        history.push(a);
        const ka = ++deliveries;
        const validA = validNow(a.meta);
        if (typeof step.b === 'object' && 'end' in step.b) {
          // A decision racing the deadline (or the owner's cancel): exactly one of them wins.
          const end = step.b;
          const r = end.end % n;
          const [actual, ended] = await Promise.all([
            handlers[0]!(job(a, ka)),
            bed.stores[1].end(reqs[r]!.approval_id, end.status, clock.now()),
          ]);
          const orders = [
            (m: ModelState) => {
              const e = predict(a.meta, m, procOf(0), ka, 0);
              return { e, ended: endModel(m, r, end.status) };
            },
            (m: ModelState) => {
              const ended2 = endModel(m, r, end.status);
              return { e: predict(a.meta, m, procOf(0), ka, 0), ended: ended2 };
            },
          ].map((order) => {
            const m = structuredClone(s);
            return { m, ...order(m) };
          });
          const match = orders.find(
            (o) => o.ended === ended && o.e.outcome === actual.outcome && o.e.reason === actual.reason,
          );
          expect(
            match,
            `${a.meta.kind} racing end(${end.status}) at ${describeStep(i)}: ${JSON.stringify({ actual, ended, orders: orders.map((o) => [o.e, o.ended]) })}`,
          ).toBeDefined();
          Object.assign(s, match!.m);
          // The deadline got there first: the decision found the request ended, and was not valid then.
          const endFirst = match === orders[1] && ended && reqs[r]!.approval_id === a.meta.approval_id;
          record(a, 0, ka, validA && !endFirst, match!.e, actual, i);
          break;
        }
        let b: Delivered | null;
        if (step.b === 'same') b = { data: a.data, meta: { ...a.meta, kind: `copy of ${a.meta.kind}` } };
        else b = materialise(step.b);
        if (!b) break;
        history.push(b);
        const kb = ++deliveries;
        const validB = validNow(b.meta);
        const bb = b;
        const [actualA, actualB] = await Promise.all([handlers[0]!(job(a, ka)), handlers[1]!(job(bb, kb))]);
        // Linearisable: the pair of outcomes is what one of the two orders gives.
        const orders = [
          (m: ModelState) => {
            const ea = predict(a.meta, m, procOf(0), ka, 0);
            return [ea, predict(bb.meta, m, procOf(1), kb, 1)] as const;
          },
          (m: ModelState) => {
            const eb = predict(bb.meta, m, procOf(1), kb, 1);
            return [predict(a.meta, m, procOf(0), ka, 0), eb] as const;
          },
        ].map((order) => {
          const m = structuredClone(s);
          const [ea, eb] = order(m);
          return { m, ea, eb };
        });
        const same = (e: Expected, o: DecisionOutcome) => e.outcome === o.outcome && e.reason === o.reason;
        const matches = orders.filter((o) => same(o.ea, actualA) && same(o.eb, actualB));
        expect(
          matches.length,
          `race of ${a.meta.kind} and ${bb.meta.kind} at ${describeStep(i)}: ${JSON.stringify({ actualA, actualB, orders: orders.map((o) => [o.ea, o.eb]) })}`,
        ).toBeGreaterThan(0);
        let chosen = matches[0]!;
        if (matches.length === 2 && JSON.stringify(matches[0]!.m) !== JSON.stringify(matches[1]!.m)) {
          // Same outcomes either way but different states: ask Redis which decision it kept.
          const rec = await bed.stores[0].get(a.meta.approval_id);
          chosen = rec?.decision_json === JSON.stringify(a.data) ? matches[0]! : matches[1]!;
          count('(race resolved by asking Redis)');
        }
        Object.assign(s, chosen.m);
        record(a, 0, ka, validA, chosen.ea, actualA, i);
        record(bb, 1, kb, validB, chosen.eb, actualB, i);
        count(`(two consumers racing: ${actualA.outcome}+${actualB.outcome})`);
        break;
      }
    }
    // structuredClone replaced the model's objects: keep the local names pointing at the live ones.
    reqs.splice(0, reqs.length, ...s.reqs);
    s.reqs = reqs;
  }

  if (!check) return { records, reqs, alerts };
  // ------------------------------------------------------------------- invariants, after the sequence
  const byApproval = new Map(reqs.map((r, i) => [r.approval_id, i]));
  const inRedis = await Promise.all(
    reqs.map((r) =>
      Promise.all([
        r.status === 'lost' ? null : bed.stores[0].get(r.approval_id),
        bed.queues[0].getJobState(r.job_id),
      ]),
    ),
  );
  for (const [i, r] of reqs.entries()) {
    const [stored, state] = inRedis[i]!;
    const accepted = records.filter(
      (x) => x.actual.outcome === 'accepted' && x.actual.approval_id === r.approval_id,
    );
    const validOnes = records.filter((x) => x.validAtDelivery && x.meta.approval_id === r.approval_id);
    // (2) at most once; and every valid approval exactly once.
    expect(accepted.length, `request ${i}: accepted decisions`).toBeLessThanOrEqual(1);
    expect(accepted.length, `request ${i}: a valid decision was delivered while it was parked`).toBe(
      validOnes.length > 0 ? 1 : 0,
    );
    if (r.status !== 'lost') {
      expect(stored?.status, `request ${i} status in Redis`).toBe(r.status);
    }
    if (accepted.length === 1) {
      const a = accepted[0]!;
      // (1) consumed only by a genuine, unexpired decision from a configured key for exactly this request.
      expect(a.meta.authentic && a.meta.wellFormed, `request ${i}: consumed by a genuine decision`).toBe(
        true,
      );
      expect(inRing(a.ring, a.meta.claim), `request ${i}: signed by a configured key`).toBe(true);
      expect(a.meta.approval_id).toBe(r.approval_id);
      expect(a.meta.plan_hash).toBe(r.plan_hash);
      expect(a.at).toBeLessThan(a.meta.expiresMs + sc.skewMs);
      // The first valid decision wins (of two racing at once, either may be the first).
      expect(validOnes, `request ${i}: the consumed decision was valid`).toContain(a);
      const earlier = validOnes.filter((x) => x.n < a.n && (x.race === null || x.race !== a.race));
      expect(
        earlier.map((x) => x.kind),
        `request ${i}: an earlier valid decision was passed over`,
      ).toEqual([]);
      expect(r.consumed?.delivery).toBe(a.n);
      if (stored && !r.rolledBack) {
        expect(stored.status).toBe(a.meta.decision);
        expect(stored.decision_json, `request ${i}: the consumed decision is kept as received`).toBe(
          JSON.stringify(a.data),
        );
      }
    } else if (stored) {
      expect(['approved', 'denied'], `request ${i} consumed without an accepted decision`).not.toContain(
        stored.status,
      );
    }
    // (3) the ledger names the consumption (when its run-log entry was written), with its own job id.
    for (const [p, ledger] of ledgers.entries()) {
      const expectedJob = r.consumed && r.consumed.proc === p && r.consumed.logged ? r.job_id : null;
      expect(ledger.consumedFor(r.approval_id), `request ${i}: ledger of process ${p}`).toBe(expectedJob);
      const entries = runLogs[p]!.entries.filter(
        (e) => (e.event === 'approved' || e.event === 'denied') && e.approval_id === r.approval_id,
      );
      expect(
        entries.map((e) => [e.event, e.job_id]),
        `request ${i}: consuming run-log entries of process ${p}`,
      ).toEqual(expectedJob ? [[r.consumed!.decision, r.job_id]] : []);
    }
    // The parked job was woken exactly when its request was consumed.
    expect(state, `request ${i}: the parked job`).toBe(r.consumed ? 'waiting' : 'delayed');
  }
  // (3) nothing else in any ledger or run log consumes anything.
  for (const [p, log] of runLogs.entries()) {
    for (const e of log.entries.filter((x) => x.event === 'approved' || x.event === 'denied')) {
      expect(
        byApproval.has(e.approval_id ?? ''),
        `process ${p} logged a consumption of an unknown approval`,
      ).toBe(true);
    }
  }
  expect(ledgers.reduce((sum, l) => sum + l.size, 0)).toBe(reqs.filter((r) => r.consumed?.logged).length);
  // (4) forgeries never accepted; every security outcome alerted, nothing else.
  for (const x of records) {
    if (!(x.meta.authentic && x.meta.wellFormed)) expect(x.actual.outcome, x.kind).not.toBe('accepted');
  }
  const securityReasons = records.filter((x) => x.actual.outcome === 'security').map((x) => x.actual.reason);
  expect(alerts.map((a) => String(a.input.details?.['reason'])).sort()).toEqual([...securityReasons].sort());
  for (const a of alerts) expect(a.input).toMatchObject({ severity: 'critical', kind: 'security' });
  // Each delivery left exactly one run-log line saying what became of it, while its log was up.
  const lineFor = (o: DecisionOutcome) =>
    o.outcome === 'accepted'
      ? o.reason
      : `${o.outcome === 'info' ? 'decision_ignored' : 'security'}:${o.reason}`;
  for (const [p, log] of runLogs.entries()) {
    const expectedLines = records.filter((x) => procOf(x.via) === p && x.logUp).map((x) => lineFor(x.actual));
    const lines = log.entries.map((e) => (e.code === null ? e.event : `${e.event}:${e.code}`));
    expect(lines.sort(), `run log of process ${p}`).toEqual(expectedLines.sort());
  }
  return { records, reqs, alerts };
}

// ---------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------
const reqArb = fc.nat({ max: 5 });
const genuineArb: fc.Arbitrary<Genuine> = fc.record({
  req: reqArb,
  decision: fc.constantFrom<Verdict>('approved', 'approved', 'denied'),
  signer: fc.oneof(
    { weight: 8, arbitrary: fc.constant(0) },
    { weight: 3, arbitrary: fc.constantFrom(1, 2) },
    { weight: 1, arbitrary: fc.constant(REMOVED_KEY) },
  ),
  ttl: fc.oneof(
    { weight: 5, arbitrary: fc.integer({ min: 60_000, max: 900_000 }) },
    { weight: 2, arbitrary: fc.constantFrom(-1, 0, 1, 999, 1000) },
    { weight: 2, arbitrary: fc.integer({ min: -2 * HOUR, max: 120_000 }) },
  ),
  minusSkew: fc.boolean(),
  fmt: fc.constantFrom<0 | 1 | 2>(0, 0, 1, 2),
  reason: fc.option(fc.constantFrom('ok', 'looks fine', 'no: not during the sale', 'ünïcødé ✓ 𝄞'), {
    freq: 2,
  }),
});
const decisionArb: fc.Arbitrary<DecisionSpec> = fc.oneof(
  { weight: 6, arbitrary: genuineArb.map((g) => ({ t: 'genuine' as const, g })) },
  { weight: 4, arbitrary: fc.nat({ max: 20 }).map((back) => ({ t: 'copy' as const, back })) },
  {
    weight: 6,
    arbitrary: fc
      .record({ g: genuineArb, m: fc.nat({ max: FORGING_MUTATIONS - 1 }), k: fc.nat({ max: 1000 }) })
      .map((x) => ({ t: 'mutate' as const, ...x })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ g: genuineArb, claim: fc.nat({ max: 3 }) })
      .map((x) => ({ t: 'wrong-key' as const, ...x })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ g: genuineArb, other: fc.nat({ max: 4 }) })
      .map((x) => ({ t: 'swap' as const, ...x })),
  },
  { weight: 1, arbitrary: genuineArb.map((g) => ({ t: 'unknown-id' as const, g })) },
  { weight: 1, arbitrary: genuineArb.map((g) => ({ t: 'other-plan' as const, g })) },
  { weight: 1, arbitrary: fc.nat({ max: JUNK.length - 1 }).map((j) => ({ t: 'junk' as const, j })) },
);
const endStatusArb = fc.constantFrom<'expired' | 'cancelled'>('expired', 'cancelled');
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc
      .record({ via: fc.constantFrom<0 | 1>(0, 1), d: decisionArb })
      .map((x) => ({ t: 'deliver' as const, ...x })),
  },
  {
    weight: 4,
    arbitrary: fc
      .record({
        a: decisionArb,
        b: fc.oneof(
          { weight: 3, arbitrary: decisionArb },
          { weight: 2, arbitrary: fc.constant('same' as const) },
          { weight: 2, arbitrary: genuineArb.map((g) => ({ t: 'genuine' as const, g })) },
          { weight: 1, arbitrary: fc.record({ end: reqArb, status: endStatusArb }) },
        ),
      })
      .map((x) => ({ t: 'race' as const, ...x })),
  },
  {
    weight: 3,
    arbitrary: fc
      .oneof(
        fc.constantFrom(1, 999, 1000, 29_999, 30_000, 30_001, 60_000),
        fc.integer({ min: 0, max: 700_000 }),
        fc.constant(2 * HOUR),
      )
      .map((ms) => ({ t: 'advance' as const, ms })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ req: reqArb, status: endStatusArb }).map((x) => ({ t: 'end' as const, ...x })),
  },
  { weight: 1, arbitrary: reqArb.map((req) => ({ t: 'lose' as const, req })) },
  { weight: 1, arbitrary: reqArb.map((req) => ({ t: 'rollback' as const, req })) },
  { weight: 1, arbitrary: fc.constantFrom<1 | 2>(1, 2).map((key) => ({ t: 'rotate' as const, key })) },
  {
    weight: 1,
    arbitrary: fc
      .record({ via: fc.constantFrom<0 | 1>(0, 1), down: fc.boolean() })
      .map((x) => ({ t: 'log-down' as const, ...x })),
  },
);
const planSeedArb: fc.Arbitrary<PlanSeed> = fc.record({
  action: fc.constantFrom<PlanSeed['action']>('restart', 'stop', 'scale'),
  // Few services and numbers, so two requests sometimes share a plan (and so a plan hash).
  service: fc.nat({ max: 3 }),
  n: fc.nat({ max: 3 }),
  containers: fc.integer({ min: 1, max: 2 }),
  withRequestId: fc.boolean(),
});
const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  plans: fc.array(planSeedArb, { minLength: 1, maxLength: 3 }),
  skewMs: fc.constantFrom(30_000, 30_000, 0, 5_000),
  sharedProcess: fc.boolean(),
  ringMask: fc.constantFrom(1, 3, 3, 5, 7),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 12 }),
});

// ---------------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------------
let bed: Bed;
beforeAll(async () => {
  bed = await openBed(freshPrefix());
});
afterAll(async () => {
  if (bed) await closeBed(bed);
  if (tally.size > 0) {
    const lines = [...tally.entries()]
      .sort((a, b) => a[0].localeCompare(b[0]))
      .map(([k, v]) => `  ${String(v).padStart(6)}  ${k}`);
    const totals = new Map<string, number>();
    for (const [k, v] of tally) {
      const outcome = / → (\w+):/.exec(k)?.[1];
      if (outcome) totals.set(outcome, (totals.get(outcome) ?? 0) + v);
    }
    console.log(
      `decision-property: outcomes by kind of delivery (${[...totals].map(([k, v]) => `${k} ${v}`).join(', ')})\n${lines.join('\n')}`,
    );
  }
});

const g0: Genuine = {
  req: 0,
  decision: 'approved',
  signer: 0,
  ttl: 600_000,
  minusSkew: false,
  fmt: 0,
  reason: null,
};
const one = (steps: Step[], over: Partial<Scenario> = {}): Scenario => ({
  plans: [
    { action: 'restart', service: 0, n: 0, containers: 1, withRequestId: true },
    { action: 'stop', service: 1, n: 1, containers: 2, withRequestId: false },
  ],
  skewMs: 30_000,
  sharedProcess: true,
  ringMask: 3,
  steps,
  ...over,
});
const deliver = (d: DecisionSpec, via: 0 | 1 = 0): Step => ({ t: 'deliver', via, d });
const outcomes = (r: RunResult) => r.records.map((x) => `${x.actual.outcome}:${x.actual.reason}`);

describe('decisions on helm.approvals, example by example', () => {
  it('a genuine approval is accepted, consumed, logged, and wakes its job', async () => {
    const r = await runScenario(bed, one([deliver({ t: 'genuine', g: g0 })]));
    expect(outcomes(r)).toEqual(['accepted:approved']);
    expect(r.reqs.map((x) => x.status)).toEqual(['approved', 'parked']);
  });

  it('a genuine denial is consumed as denied', async () => {
    const r = await runScenario(
      bed,
      one([deliver({ t: 'genuine', g: { ...g0, decision: 'denied', reason: 'no' } })]),
    );
    expect(outcomes(r)).toEqual(['accepted:denied']);
  });

  it('a duplicate delivery, and a later genuine decision for the same approval, are repeats', async () => {
    const r = await runScenario(
      bed,
      one([
        deliver({ t: 'genuine', g: g0 }),
        deliver({ t: 'copy', back: 0 }, 1),
        deliver({ t: 'genuine', g: { ...g0, decision: 'denied', signer: 1 } }, 1),
      ]),
    );
    expect(outcomes(r)).toEqual(['accepted:approved', 'info:repeat', 'info:repeat']);
  });

  it.each(MUTATIONS.map((m, i) => [m.name, i] as const))(
    'a decision with %s is refused as security',
    async (_name, m) => {
      const r = await runScenario(bed, one([deliver({ t: 'mutate', g: { ...g0, reason: 'ok' }, m, k: 7 })]));
      expect(r.records[0]!.actual.outcome).toBe('security');
      expect(r.alerts).toHaveLength(1);
      expect(r.reqs[0]!.status).toBe('parked');
    },
  );

  it('the same decision with its fields in another order is the same decision', async () => {
    const r = await runScenario(bed, one([]));
    // Not a forgery: the signature covers the canonical form, so key order does not matter.
    const req = r.reqs[0]!;
    const d = signDecision(
      {
        approval_id: req.approval_id,
        decision: 'approved',
        plan_hash: req.plan_hash,
        approver: 'warden',
        decided_at: new Date(T0).toISOString(),
        expires_at: new Date(T0 + HOUR).toISOString(),
      },
      KEYS[0]!.privateKey,
    ) as unknown as Record<string, unknown>;
    const reordered = Object.fromEntries(Object.entries(d).reverse());
    expect(verifyDecision(reordered, KEYRINGS.get(1)!).ok).toBe(true);
  });

  it('a removed key, a key rotated out, and a decision signed by a key other than the one it names are refused', async () => {
    const r = await runScenario(
      bed,
      one(
        [
          deliver({ t: 'genuine', g: { ...g0, signer: REMOVED_KEY } }),
          deliver({ t: 'wrong-key', g: { ...g0, signer: REMOVED_KEY }, claim: 0 }),
          { t: 'rotate', key: 1 },
          deliver({ t: 'genuine', g: { ...g0, signer: 1 } }),
          deliver({ t: 'genuine', g: g0 }),
        ],
        { ringMask: 3 },
      ),
    );
    expect(outcomes(r)).toEqual([
      'security:unknown_key',
      'security:bad_signature',
      'security:unknown_key',
      'accepted:approved',
    ]);
  });

  it("swapped approval ids (Warden's signature over another request's plan) are a plan mismatch", async () => {
    const r = await runScenario(
      bed,
      one([deliver({ t: 'swap', g: g0, other: 0 }), deliver({ t: 'genuine', g: g0 })]),
    );
    expect(outcomes(r)).toEqual(['security:plan_mismatch', 'accepted:approved']);
    expect(r.reqs.map((x) => x.status)).toEqual(['approved', 'parked']);
  });

  it('an unknown approval_id, or a plan that is not the parked one, authorises nothing', async () => {
    const r = await runScenario(
      bed,
      one([deliver({ t: 'unknown-id', g: g0 }), deliver({ t: 'other-plan', g: g0 })]),
    );
    expect(outcomes(r)).toEqual(['info:ended', 'security:plan_mismatch']);
  });

  it('an expired decision is late, to the millisecond of its expiry plus the skew', async () => {
    const r = await runScenario(
      bed,
      one([
        deliver({ t: 'genuine', g: { ...g0, ttl: 0, minusSkew: true } }),
        deliver({ t: 'genuine', g: { ...g0, ttl: 1, minusSkew: true } }),
      ]),
    );
    expect(outcomes(r)).toEqual(['info:late', 'accepted:approved']);
  });

  it('a replay after the decision expired is still only a repeat; a held decision replayed late is late', async () => {
    const r = await runScenario(
      bed,
      one([
        deliver({ t: 'genuine', g: { ...g0, req: 1, ttl: 60_000 } }),
        { t: 'advance', ms: 60_000 + 30_000 },
        deliver({ t: 'copy', back: 0 }),
        // Signed a minute ago with a one-minute life, held back, delivered now: past expiry + skew.
        deliver({ t: 'genuine', g: { ...g0, ttl: -60_000 } }),
        deliver({ t: 'copy', back: 0 }, 1),
      ]),
    );
    expect(outcomes(r)).toEqual(['accepted:approved', 'info:repeat', 'info:late', 'info:late']);
    expect(r.reqs.map((x) => x.status)).toEqual(['parked', 'approved']);
  });

  it('a decision for a cancelled or expired request is info: ended', async () => {
    const r = await runScenario(
      bed,
      one([
        { t: 'end', req: 0, status: 'cancelled' },
        { t: 'end', req: 1, status: 'expired' },
        deliver({ t: 'genuine', g: g0 }),
        deliver({ t: 'genuine', g: { ...g0, req: 1 } }),
      ]),
    );
    expect(outcomes(r)).toEqual(['info:ended', 'info:ended']);
  });

  it('two consumers racing the same decision, or competing ones, consume it once', async () => {
    const r = await runScenario(
      bed,
      one(
        [
          { t: 'race', a: { t: 'genuine', g: g0 }, b: 'same' },
          {
            t: 'race',
            a: { t: 'genuine', g: { ...g0, req: 1 } },
            b: { t: 'genuine', g: { ...g0, req: 1, decision: 'denied' } },
          },
        ],
        { sharedProcess: false },
      ),
    );
    expect(outcomes(r).filter((o) => o.startsWith('accepted'))).toHaveLength(2);
    expect(outcomes(r).filter((o) => o === 'info:repeat')).toHaveLength(2);
  });

  it('a decision racing the deadline: exactly one of them ends the request', async () => {
    const r = await runScenario(
      bed,
      one([{ t: 'race', a: { t: 'genuine', g: g0 }, b: { end: 0, status: 'expired' } }]),
    );
    expect(['approved', 'expired']).toContain(r.reqs[0]!.status);
  });

  it('after Redis lost the record, a replayed approval is refused by the ledger', async () => {
    const r = await runScenario(
      bed,
      one([deliver({ t: 'genuine', g: g0 }), { t: 'lose', req: 0 }, deliver({ t: 'copy', back: 0 }, 1)]),
    );
    expect(outcomes(r)).toEqual(['accepted:approved', 'info:repeat']);
    // Another Helm process, whose ledger never saw it, still cannot consume what Redis no longer holds.
    const other = await runScenario(
      bed,
      one([deliver({ t: 'genuine', g: g0 }), { t: 'lose', req: 0 }, deliver({ t: 'copy', back: 0 }, 1)], {
        sharedProcess: false,
      }),
    );
    expect(outcomes(other)).toEqual(['accepted:approved', 'info:ended']);
  });

  it('after Redis came back without a consumption, the run-log ledger refuses the replay', async () => {
    const r = await runScenario(
      bed,
      one([deliver({ t: 'genuine', g: g0 }), { t: 'rollback', req: 0 }, deliver({ t: 'copy', back: 0 }, 1)]),
    );
    expect(outcomes(r)).toEqual(['accepted:approved', 'info:repeat']);
  });

  it('a consumption whose run-log entry failed is not in the ledger, and the job is still woken once', async () => {
    const r = await runScenario(
      bed,
      one([
        { t: 'log-down', via: 0, down: true },
        deliver({ t: 'genuine', g: g0 }),
        deliver({ t: 'copy', back: 0 }),
      ]),
    );
    expect(outcomes(r)).toEqual(['accepted:approved', 'info:repeat']);
    expect(r.reqs[0]!.consumed?.logged).toBe(false);
  });

  it('data that is not a decision is malformed', async () => {
    const r = await runScenario(bed, one(JUNK.map((_, j) => deliver({ t: 'junk', j }))));
    expect(outcomes(r)).toEqual(JUNK.map(() => 'security:malformed'));
  });
});

// Gaps found by this file. Each states the behaviour the gate promises; `.fails` comes off with the fix.
describe('decisions on helm.approvals, known gaps', () => {
  // Two Helm processes (two run-log files, two ledgers). Process 0 consumes the approval; Redis then
  // restarts without that write (appendfsync everysec loses up to a second), so the record is parked
  // again; the genuine decision is replayed (anyone who can write helm.approvals can re-add it) and
  // process 1 takes it. Its ledger is fed only by its own appends (and the run-log files at its
  // start-up), so nothing stops a second consumption of the same approval; process 1's executor,
  // whose ledger now shows that consumption and no start, would run the change a second time.
  // In this test each simulated process has an in-memory ledger fed only by its own appends. Real
  // Helm processes on one host share their run-log files, and src/gate/run-log-ledger.ts reads the
  // others' appends before every decision and every change; test/integration/gate/crash-restart.test.ts
  // shows that with real processes. The in-memory model keeps the gap visible here.
  it.fails('a replayed approval is not consumed twice by a second Helm process after a Redis rollback', async () => {
    const r = await runScenario(
      bed,
      one(
        [deliver({ t: 'genuine', g: g0 }, 0), { t: 'rollback', req: 0 }, deliver({ t: 'copy', back: 0 }, 1)],
        {
          sharedProcess: false,
          rollbackAcrossProcesses: true,
        },
      ),
      false,
    );
    expect(outcomes(r)).toEqual(['accepted:approved', 'info:repeat']);
  });

  // The request's own deadline (ApprovalRequest.expires_at, T0 + 1 h here) counts in the decision
  // handler too: a decision that arrives after it but before the parked job's timer ran (Helm was
  // down, the worker was busy) is late, and the request does not run.
  it("a decision arriving after the request's own deadline is not accepted", async () => {
    const r = await runScenario(
      bed,
      one([{ t: 'advance', ms: HOUR + 1 }, deliver({ t: 'genuine', g: { ...g0, ttl: 600_000 } })]),
      false,
    );
    expect(outcomes(r)[0]).not.toMatch(/^accepted/);
  });
});

describe('decisions on helm.approvals, as a property', () => {
  it(`pure: verifyDecision + acceptDecision agree with the contract's rules (${PURE_RUNS} runs)`, () => {
    let runs = 0;
    const now = T0;
    fc.assert(
      fc.property(
        decisionArb,
        fc.record({
          ring: fc.constantFrom(1, 3, 5, 7),
          status: fc.constantFrom<Status>('parked', 'parked', 'approved', 'expired', 'lost'),
          skewMs: fc.constantFrom(30_000, 0),
        }),
        (spec, ctx) => {
          runs++;
          const approvalId = '6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b';
          const otherId = '0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d';
          const seed: PlanSeed = { action: 'restart', service: 0, n: 0, containers: 1, withRequestId: true };
          const hash = planOf(seed).hash;
          const otherHash = planOf({ ...seed, service: 1 }).hash;
          const g = 'g' in spec ? spec.g : g0;
          const expiresMs = now + g.ttl - (g.minusSkew ? ctx.skewMs : 0);
          const fields = {
            approval_id: spec.t === 'swap' ? otherId : spec.t === 'unknown-id' ? randomUUID() : approvalId,
            decision: g.decision,
            plan_hash: spec.t === 'other-plan' ? otherHash : hash,
            approver: 'warden',
            decided_at: new Date(now).toISOString(),
            expires_at: new Date(expiresMs).toISOString(),
            ...(g.reason !== null ? { reason: g.reason } : {}),
          };
          let data: unknown;
          let wellFormed = true;
          let authentic = true;
          if (spec.t === 'junk') {
            data = JUNK[spec.j]!.data;
            wellFormed = false;
          } else if (spec.t === 'mutate') {
            const base = signDecision(fields, KEYS[g.signer]!.privateKey) as unknown as Record<
              string,
              unknown
            >;
            const m = MUTATIONS[spec.m]!.apply(base, {
              k: spec.k,
              otherId,
              otherHash,
              siblingSignature: () =>
                signDecision({ ...fields, approver: 'w2' }, KEYS[g.signer]!.privateKey).signature,
              signer: g.signer,
            });
            data = JSON.parse(JSON.stringify(m.data));
            wellFormed = m.wellFormed;
            authentic = false;
          } else if (spec.t === 'wrong-key') {
            const claim = spec.claim === g.signer ? (spec.claim + 1) % 4 : spec.claim;
            const unsigned = { type: 'helm.approval-decision.v1', ...fields, key_id: KEYS[claim]!.id };
            const signature = sign(
              null,
              Buffer.from(decisionSigningText(unsigned)),
              KEYS[g.signer]!.privateKey,
            );
            data = { ...unsigned, signature: signature.toString('base64') };
            authentic = false;
          } else {
            data = signDecision(fields, KEYS[g.signer]!.privateKey);
          }
          const claimId =
            data && typeof data === 'object' ? (data as Record<string, unknown>)['key_id'] : undefined;
          const meta: Meta = {
            kind: spec.t,
            wellFormed,
            claim: typeof claimId === 'string' ? (KEY_INDEX.get(claimId) ?? -1) : -1,
            authentic,
            approval_id: fields.approval_id,
            plan_hash: fields.plan_hash,
            decision: g.decision,
            expiresMs,
          };
          const s: ModelState = {
            reqs: [
              { approval_id: approvalId, plan_hash: hash, job_id: 'j', status: ctx.status, consumed: null },
            ],
            procs: [{ ledger: [], down: false }],
            ring: ctx.ring,
            now,
            skewMs: ctx.skewMs,
          };
          const expected = predict(meta, s, 0, 1, 0);
          const verdict = verifyDecision(data, KEYRINGS.get(ctx.ring)!);
          const acceptance = acceptDecision({
            verdict,
            parked: ctx.status === 'parked' ? { approval_id: approvalId, plan_hash: hash } : null,
            alreadyConsumed:
              ctx.status === 'approved' && verdict.ok && verdict.decision.approval_id === approvalId,
            now,
            skewMs: ctx.skewMs,
          });
          const actual =
            acceptance.outcome === 'accept'
              ? { outcome: 'accepted', reason: acceptance.decision.decision }
              : { outcome: acceptance.outcome, reason: acceptance.reason };
          expect(actual, `${spec.t} ${spec.t === 'mutate' ? MUTATIONS[spec.m]!.name : ''}`).toEqual(expected);
        },
      ),
      { numRuns: PURE_RUNS },
    );
    console.log(`decision-property: pure verifyDecision + acceptDecision, ${runs} runs`);
    expect(runs).toBeGreaterThanOrEqual(PURE_RUNS);
  });

  it(`real handlers on Redis: nothing authorised without a valid decision, each consumed once (${REDIS_RUNS} sequences)`, async () => {
    let runs = 0;
    let deliveries = 0;
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (sc) => {
        runs++;
        const r = await runScenario(bed, sc);
        deliveries += r.records.length;
      }),
      { numRuns: REDIS_RUNS },
    );
    console.log(
      `decision-property: ${runs} sequences, ${deliveries} deliveries through the real handlers on Redis in ${Date.now() - started} ms`,
    );
    expect(runs).toBeGreaterThanOrEqual(REDIS_RUNS);
    // A hang bound, not a speed claim: 2000 sequences take about a minute on a loaded 2-core machine.
  }, 300_000);
});
