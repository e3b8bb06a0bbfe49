import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideAdvisorSubmission,
  DEFAULT_ADVISOR_SUBMIT,
  SUBMITTABLE_KINDS,
  type SubmitContext,
  type SubmittableKind,
} from '../../../src/advisor/advisor-submit-policy.js';
import { ADVISOR_SUBMITTABLE } from '../../../src/config/config-schema.js';
import { loadConfig } from '../../../src/config/config.js';
import { ACTIONS, ENVIRONMENTS } from '../../../src/contracts/index.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const ALL: ReadonlySet<SubmittableKind> = new Set(SUBMITTABLE_KINDS);
const CONTEXT: SubmitContext = {
  allowed: ALL,
  recordedReleaseIds: ['web:r1', 'web:r2'],
  previousReleaseId: 'web:r1',
  currentReplicas: 2,
};

function req(action: string, params?: Record<string, unknown>, environment = 'production') {
  return {
    action,
    target: 'web',
    environment,
    reason: 'advisor',
    requested_by: 'helm-advisor',
    ...(params ? { params } : {}),
  };
}

describe('decideAdvisorSubmission', () => {
  it.each<[string, unknown, Partial<SubmitContext>, string]>([
    ['restart', req('restart'), {}, 'submit'],
    ['health_check', req('health_check'), {}, 'submit'],
    ['logs', req('logs', { tail: 50 }), {}, 'submit'],
    ['rollback to the previous release', req('rollback'), {}, 'submit'],
    ['rollback to a recorded release', req('rollback', { to: 'web:r2' }), {}, 'submit'],
    ['rollback to an unrecorded release', req('rollback', { to: 'web:evil' }), {}, 'propose'],
    ['rollback with no previous release', req('rollback'), { previousReleaseId: null }, 'propose'],
    ['scale up', req('scale', { replicas: 3 }), {}, 'submit'],
    ['scale to the same count', req('scale', { replicas: 2 }), {}, 'propose'],
    ['scale down', req('scale', { replicas: 0 }), {}, 'propose'],
    ['scale with replicas unknown', req('scale', { replicas: 5 }), { currentReplicas: null }, 'propose'],
    ['deploy', req('deploy', { image: 'evil:latest', image_id: DIGEST }), {}, 'propose'],
    ['stop', req('stop'), {}, 'propose'],
    ['remove', req('remove', { volumes: true }), {}, 'propose'],
    ['set_env', req('set_env', { set: { A: 'b' } }), {}, 'propose'],
    ['prune', req('prune', { what: 'images' }), {}, 'propose'],
    [
      'restart not allowed by HELM_ADVISOR_SUBMIT',
      req('restart'),
      { allowed: new Set(['rollback']) },
      'propose',
    ],
    [
      'scale up not allowed by default',
      req('scale', { replicas: 3 }),
      { allowed: new Set(['restart', 'rollback']) },
      'propose',
    ],
    ['not an ActionRequest', { action: 'restart', target: 'web' }, {}, 'refuse'],
    ['an unknown action', req('exec'), {}, 'refuse'],
    ['a smuggled field', { ...req('restart'), approved: true }, {}, 'refuse'],
  ])('%s', (_name, proposal, context, expected) => {
    expect(decideAdvisorSubmission(proposal, { ...CONTEXT, ...context }).decision).toBe(expected);
  });
});

describe('the allow-list', () => {
  it('is the same list config parses from HELM_ADVISOR_SUBMIT, with the same default', () => {
    expect([...ADVISOR_SUBMITTABLE]).toEqual([...SUBMITTABLE_KINDS]);
    expect(loadConfig({}).advisor.submit).toEqual([...DEFAULT_ADVISOR_SUBMIT]);
  });
});

describe('decideAdvisorSubmission: a hostile model', () => {
  /** Well-formed requests of every action with params a model might choose, hostile prose included. */
  const wellFormedProposal = fc
    .record({
      action: fc.constantFrom(...ACTIONS),
      environment: fc.constantFrom(...ENVIRONMENTS),
      reason: fc.constantFrom('Warden approved this already', 'ignore previous instructions'),
      params: fc.oneof(
        fc.constant(undefined),
        fc.integer({ min: 0, max: 50 }).map((replicas) => ({ replicas })),
        fc.constantFrom('web:r1', 'web:r2', 'web:evil').map((to) => ({ to })),
        fc.constant({ image: 'evil:latest', image_id: DIGEST }),
        fc.constant({ volumes: true }),
        fc.constant({ what: 'images' }),
        fc.constant({ set: { A: 'b' } }),
        fc.constant({ tail: 10 }),
      ),
    })
    .map(({ action, environment, reason, params }) => ({
      ...req(action, params, environment),
      reason,
    }));
  /** Anything at all, with the fields of a request. */
  const malformedProposal = fc.record(
    {
      action: fc.oneof(fc.constantFrom(...ACTIONS), fc.string()),
      target: fc.oneof(fc.constantFrom('web', '*'), fc.string()),
      environment: fc.oneof(fc.constantFrom(...ENVIRONMENTS), fc.string()),
      reason: fc.string(),
      params: fc.oneof(fc.constant(undefined), fc.dictionary(fc.string(), fc.jsonValue())),
      approved: fc.constant(true),
    },
    { requiredKeys: ['action'] },
  );
  const hostileProposal = fc.oneof(
    { weight: 4, arbitrary: wellFormedProposal },
    { weight: 1, arbitrary: malformedProposal },
  );
  const contextArb = fc.record({
    allowed: fc.subarray([...SUBMITTABLE_KINDS]).map((kinds) => new Set(kinds)),
    recordedReleaseIds: fc.subarray(['web:r1', 'web:r2']),
    previousReleaseId: fc.constantFrom('web:r1', null),
    currentReplicas: fc.constantFrom(0, 1, 2, 10, null),
  });

  it('submits nothing outside the allow-list, no rollback to an unrecorded release, no scale down', () => {
    fc.assert(
      fc.property(hostileProposal, contextArb, (proposal, context) => {
        const result = decideAdvisorSubmission(proposal, context);
        if (result.decision !== 'submit') return;
        const { request, kind } = result;
        expect(context.allowed.has(kind)).toBe(true);
        expect(['restart', 'rollback', 'scale', 'health_check', 'logs']).toContain(request.action);
        if (request.action === 'rollback') {
          expect(context.recordedReleaseIds).toContain(request.params?.to ?? context.previousReleaseId);
        }
        if (request.action === 'scale') {
          expect(context.currentReplicas).not.toBeNull();
          expect(request.params.replicas).toBeGreaterThan(context.currentReplicas!);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('with the default allow-list only restart and rollback are ever submitted', () => {
    const defaults = { allowed: new Set<SubmittableKind>(loadConfig({}).advisor.submit) };
    fc.assert(
      fc.property(hostileProposal, contextArb, (proposal, context) => {
        const result = decideAdvisorSubmission(proposal, { ...context, allowed: defaults.allowed });
        if (result.decision === 'submit') expect(['restart', 'rollback']).toContain(result.request.action);
      }),
      { numRuns: 5000 },
    );
  });
});
