// What an interrupted step left and what comes next, as data (after-crash-decision.ts), and the
// approval check a resumed request passes instead of the single-use check (resume-approval.ts).
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { keyIdOf, planHash, signDecision } from '../../../src/approval/index.js';
import { ActionRequestSchema } from '../../../src/contracts/index.js';
import type { SignedExecJob } from '../../../src/exec-job/exec-job.js';
import {
  nextAfterCrashAt,
  nextAfterSwitchCrash,
  type ReplacedFacts,
  type SwitchCrashFacts,
} from '../../../src/executor/recovery/after-crash-decision.js';
import { planOfIntent } from '../../../src/executor/recovery/interrupted-state.js';
import { resumeRefusal } from '../../../src/executor/recovery/resume-approval.js';
import type { Intent } from '../../../src/intents/intent-store.js';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { makeApprovalLedger } from '../../../src/runlog/approval-ledger.js';
import { CONFIG_KEY, hex64, IMAGE_A, IMAGE_B, inspectFixture } from '../plan/inspect-fixture.js';

const asBefore: ReplacedFacts = { name: 'web', present: true, activeName: true, stoppedByOp: false };
const facts = (over: Partial<SwitchCrashFacts>): SwitchCrashFacts => ({
  step: 'stop_old',
  created: 0,
  replaced: [asBefore, { ...asBefore, name: 'web-2' }],
  reusedTouched: 0,
  ...over,
});

describe('what the interrupted step left, and what is next', () => {
  it('at start, for every operation: nothing was announced, so the request resumes', () => {
    for (const step of ['start']) expect(nextAfterCrashAt(step)?.next).toBe('resume');
    expect(nextAfterCrashAt('create_replica')).toBeNull();
    expect(nextAfterCrashAt('recover_stop_old')).toBeNull();
  });

  const table: Array<[string, Partial<SwitchCrashFacts>, 'resume' | 'reconcile']> = [
    ['stop_old, old replicas untouched', {}, 'resume'],
    ['pull_image, nothing touched', { step: 'pull_image' }, 'resume'],
    ['tag_release_image, nothing touched', { step: 'tag_release_image' }, 'resume'],
    ['compose_pin, nothing touched', { step: 'compose_pin' }, 'resume'],
    ['compose_up, compose had not recreated anything', { step: 'compose_up' }, 'resume'],
    ['compose_up, compose had recreated a container', { step: 'compose_up', created: 1 }, 'reconcile'],
    ['compose_pin_restore: the operation was undoing', { step: 'compose_pin_restore' }, 'reconcile'],
    ['stop_old, the stop was made', { replaced: [{ ...asBefore, stoppedByOp: true }] }, 'reconcile'],
    ['stop_old of replica 2: replica 1 switched', { created: 1 }, 'reconcile'],
    ['stop_old, a replica renamed', { replaced: [{ ...asBefore, activeName: false }] }, 'reconcile'],
    ['stop_old, a replica gone', { replaced: [{ ...asBefore, present: false }] }, 'reconcile'],
    ['stop_old, a kept target container brought back', { reusedTouched: 1 }, 'reconcile'],
    ['rename_old: after the first change', { step: 'rename_old' }, 'reconcile'],
    ['start_new', { step: 'start_new' }, 'reconcile'],
    ['a recovery had begun (recover_stop_new)', { step: 'recover_stop_new' }, 'reconcile'],
  ];
  it.each(table)('%s → %s', (_label, over, next) => {
    expect(nextAfterSwitchCrash(facts(over)).next).toBe(next);
  });

  it('says why it reconciles', () => {
    expect(nextAfterSwitchCrash(facts({ replaced: [{ ...asBefore, stoppedByOp: true }] })).why).toBe(
      'web is stopped',
    );
  });
});

describe('the approval a resumed request shows', () => {
  const warden = generateKeyPairSync('ed25519');
  const keyring = new Map([[keyIdOf(warden.publicKey), warden.publicKey]]);
  const plan = buildPlan({
    request: ActionRequestSchema.parse({
      action: 'deploy',
      target: 'web',
      environment: 'production',
      reason: 'testing',
      params: { image: 'registry.example.com/web:2', image_id: IMAGE_B },
    }),
    host: 'local',
    service: 'web',
    environment: 'production',
    containers: [inspectFixture(hex64('c'), 'web')],
    configKey: CONFIG_KEY,
    secretHmacs: {},
    releases: {
      current: 'web:r1',
      next: 'web:r2',
      previous: null,
      byId: { 'web:r1': { image_id: IMAGE_A } },
    },
    pruneItems: [],
  });
  const hash = planHash(plan);
  const approvalId = '3f6c1a52-8d0e-4b7a-9c21-5e4f0a9b7d13';
  const now = new Date('2026-12-03T18:00:00Z');
  const decision = (over: { plan_hash?: string; expires_at?: string } = {}) =>
    JSON.stringify(
      signDecision(
        {
          approval_id: approvalId,
          decision: 'approved',
          plan_hash: over.plan_hash ?? hash,
          approver: 'owner',
          decided_at: '2026-12-03T17:59:00Z',
          expires_at: over.expires_at ?? '2026-12-03T18:10:00Z',
        },
        warden.privateKey,
      ),
    );
  const data = (over: Partial<SignedExecJob> = {}) =>
    ({ plan, plan_hash: hash, parent_job_id: '41', decision_json: decision(), ...over }) as SignedExecJob;
  const intent: Intent = {
    op: 'exec-41',
    service: 'web',
    action: 'deploy',
    job_id: '41',
    approval_id: approvalId,
    plan_hash: hash,
    from_release: 'web:r1',
    to_release: 'web:r2',
    step: 'stop_old',
    at: now.toISOString(),
  };
  const started = makeApprovalLedger([
    { event: 'approved', approval_id: approvalId, job_id: '41' },
    { event: 'executing', approval_id: approvalId, job_id: '41' },
  ]);
  const deps = { keyring: () => keyring, ledger: started, now, skewMs: 0, needsApproval: true };

  it('the approval this op started, of this plan, not expired: it resumes', () => {
    expect(resumeRefusal(deps, data(), intent)).toBeNull();
  });

  it('refuses what is not exactly the run that began', () => {
    const code = (r: ReturnType<typeof resumeRefusal>) => (r && !r.ok ? r.code : 'resumes');
    expect(code(resumeRefusal(deps, data({ parent_job_id: '42' }), intent))).toBe('denied');
    expect(code(resumeRefusal(deps, data({ plan_hash: hex64('0') }), intent))).toBe('stale_plan');
    expect(
      code(resumeRefusal(deps, data({ decision_json: decision({ plan_hash: hex64('1') }) }), intent)),
    ).toBe('denied');
    expect(code(resumeRefusal(deps, data({ decision_json: null }), intent))).toBe('denied');
    expect(code(resumeRefusal(deps, data(), { ...intent, approval_id: null }))).toBe('denied');
    expect(code(resumeRefusal(deps, data(), { ...intent, approval_id: hex64('5').slice(0, 36) }))).toBe(
      'denied',
    );
    // Consumed for another request, or never started: not this use.
    const other = makeApprovalLedger([{ event: 'approved', approval_id: approvalId, job_id: '7' }]);
    expect(code(resumeRefusal({ ...deps, ledger: other }, data(), intent))).toBe('denied');
    const notStarted = makeApprovalLedger([{ event: 'approved', approval_id: approvalId, job_id: '41' }]);
    expect(code(resumeRefusal({ ...deps, ledger: notStarted }, data(), intent))).toBe('denied');
  });

  it('an approval that expired while Helm was down: approval_expired, nothing changed', () => {
    const r = resumeRefusal(
      deps,
      data({ decision_json: decision({ expires_at: '2026-12-03T17:59:30Z' }) }),
      intent,
    );
    expect(r).toMatchObject({ ok: false, code: 'approval_expired' });
    expect(r && !r.ok && r.message).toMatch(/nothing was changed$/);
  });

  it('the plan an intent keeps is used only when it hashes to the intent’s plan_hash', () => {
    expect(planOfIntent({ ...intent, plan }, null)).toBe(plan);
    const tampered = { ...plan, environment: 'dev' } as typeof plan;
    expect(planOfIntent({ ...intent, plan: tampered }, null)).toBeNull();
    expect(planOfIntent(intent, null)).toBeNull();
    // The job's plan (checked by the caller) comes first.
    expect(planOfIntent({ ...intent, plan: tampered }, plan)).toBe(plan);
  });

  it('a change that needs no approval resumes without one', () => {
    const dev = { ...intent, approval_id: null };
    expect(resumeRefusal({ ...deps, needsApproval: false }, data({ decision_json: null }), dev)).toBeNull();
  });
});
