import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planHash } from '../../../src/approval/plan-hash.js';
import { ApprovalRequestSchema, parseJobData, PlanSchema } from '../../../src/contracts/index.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../vectors/approval-vectors.json', import.meta.url), 'utf8'),
);
const planOf = (name: string) =>
  structuredClone(vectors.plans.find((p: { name: string }) => p.name === name).plan);

function problems(schema: Parameters<typeof parseJobData>[0], data: unknown): string[] {
  const parsed = parseJobData(schema, data);
  return parsed.ok ? [] : parsed.problems;
}

describe('Plan', () => {
  it('accepts every vector plan', () => {
    for (const { plan } of vectors.plans) expect(problems(PlanSchema, plan)).toEqual([]);
  });

  it('wants preconditions sorted by id, without repeats', () => {
    const plan = planOf('deploy_production');
    plan.preconditions.containers.reverse();
    expect(problems(PlanSchema, plan)).toEqual([
      'preconditions.containers: must be sorted by id with no repeats',
    ]);
  });

  it('wants unset sorted and not overlapping set', () => {
    const plan = planOf('set_env_with_secret');
    plan.desired.unset = ['OLD_TOKEN', 'LEGACY_FLAG'];
    expect(problems(PlanSchema, plan)).toEqual([
      expect.stringMatching(/^desired\.unset: must be sorted ascending with no repeats/),
    ]);
    plan.desired.unset = ['API_URL'];
    expect(problems(PlanSchema, plan)).toEqual(['desired: a name may not be both set and unset']);
  });

  it('knows each action desired shape', () => {
    const plan = planOf('restart_production');
    plan.desired = { replicas: 2 };
    expect(problems(PlanSchema, plan)).toEqual([
      'desired.timeout_s is required',
      'desired: unknown field "replicas"',
    ]);
    expect(problems(PlanSchema, { ...planOf('restart_production'), action: 'logs' })[0]).toMatch(/^action: /);
  });

  it('prune items match what is pruned', () => {
    const plan = planOf('prune_images');
    plan.desired.what = 'containers';
    expect(problems(PlanSchema, plan)).toEqual([
      'desired: items must be image ids for images and container ids for containers',
    ]);
  });

  it('refuses floats (a hashed object holds integers only)', () => {
    const plan = planOf('restart_production');
    plan.desired.timeout_s = 30.5;
    expect(problems(PlanSchema, plan)).toEqual(['desired.timeout_s: must be an integer from 1 to 600']);
  });
});

describe('ApprovalRequest', () => {
  const plan = planOf('deploy_production');
  const request = {
    type: 'helm.approval-request.v1',
    approval_id: '3f6c1a52-8d0e-4b7a-9c21-5e4f0a9b7d13',
    plan_hash: planHash(plan),
    plan,
    steps: [
      'pull registry.example.com:5000/ghost/openclaw-gateway:1.2.3',
      'start new container',
      'stop old ones',
    ],
    request: {
      action: 'deploy',
      target: 'openclaw-gateway',
      environment: 'production',
      reason: 'release 1.2.3',
      request_id: 'forge:build-42',
      params: { image: plan.desired.image, manifest_digest: plan.desired.manifest_digest },
    },
    requested_at: '2026-11-29T17:06:00Z',
    expires_at: '2026-11-29T17:21:00Z',
  };

  it('accepts a well-formed request', () => {
    expect(problems(ApprovalRequestSchema, request)).toEqual([]);
  });

  it('refuses a plan_hash that is not the hash of the plan', () => {
    expect(problems(ApprovalRequestSchema, { ...request, plan_hash: 'f'.repeat(64) })).toEqual([
      'plan_hash: does not match the plan (SHA-256 of its canonical form)',
    ]);
  });

  it('refuses an expiry before the request', () => {
    expect(problems(ApprovalRequestSchema, { ...request, expires_at: '2026-11-29T17:00:00Z' })).toEqual([
      'expires_at: must be after requested_at',
    ]);
  });
});
