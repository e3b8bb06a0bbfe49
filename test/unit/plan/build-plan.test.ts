import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planHash } from '../../../src/approval/plan-hash.js';
import { type ActionRequest, ActionRequestSchema, PlanSchema } from '../../../src/contracts/index.js';
import {
  type BuildPlanInput,
  buildPlan,
  PlanError,
  policyInputOf,
  scaleDirection,
} from '../../../src/plan/build-plan.js';
import { configHmac } from '../../../src/plan/config-hmac.js';
import { CONFIG_KEY, hex64, IMAGE_A, IMAGE_B, inspectFixture, reverseKeys } from './inspect-fixture.js';

const C1 = inspectFixture(hex64('c'), 'web-1');
const C2 = inspectFixture(hex64('2'), 'web-2', { Config: { Env: ['NODE_ENV=production'] } });
const C3 = inspectFixture(hex64('9'), 'web-3', { Image: IMAGE_B });
const HMAC_DB = hex64('d');
const HMAC_API = hex64('e');

function request(data: Record<string, unknown>): ActionRequest {
  return ActionRequestSchema.parse({ target: 'web', environment: 'production', reason: 'testing', ...data });
}

function input(req: ActionRequest, over: Partial<BuildPlanInput> = {}): BuildPlanInput {
  return {
    request: req,
    host: 'local',
    service: 'web',
    environment: 'production',
    containers: [C1, C2, C3],
    configKey: CONFIG_KEY,
    secretHmacs: { 'db-password': HMAC_DB, 'api.token': HMAC_API },
    releases: {
      current: 'web:r2',
      next: 'web:r3',
      previous: 'web:r1',
      byId: { 'web:r1': { image_id: IMAGE_B }, 'web:r2': { image_id: IMAGE_A } },
    },
    pruneItems: [IMAGE_B, IMAGE_A],
    ...over,
  };
}

const expectedPreconditions = {
  containers: [
    { id: hex64('2'), image_id: IMAGE_A, config_hmac: configHmac(C2, CONFIG_KEY) },
    { id: hex64('9'), image_id: IMAGE_B, config_hmac: configHmac(C3, CONFIG_KEY) },
    { id: hex64('c'), image_id: IMAGE_A, config_hmac: configHmac(C1, CONFIG_KEY) },
  ],
};

const cases: [string, Record<string, unknown>, unknown][] = [
  [
    'deploy with defaults',
    { action: 'deploy', params: { image: 'registry.example.com/shop/web:1.2.4', image_id: IMAGE_B } },
    {
      image: 'registry.example.com/shop/web:1.2.4',
      image_id: IMAGE_B,
      manifest_digest: null,
      artifact_id: null,
      strategy: 'recreate',
      replaces_release: 'web:r2',
      new_release: 'web:r3',
    },
  ],
  [
    'deploy with everything',
    {
      action: 'deploy',
      params: {
        image: 'registry.example.com/shop/web:1.2.4',
        manifest_digest: IMAGE_B,
        artifact_id: 'forge:build-42',
        strategy: 'start-first',
      },
    },
    {
      image: 'registry.example.com/shop/web:1.2.4',
      image_id: null,
      manifest_digest: IMAGE_B,
      artifact_id: 'forge:build-42',
      strategy: 'start-first',
      replaces_release: 'web:r2',
      new_release: 'web:r3',
    },
  ],
  ['restart with the default timeout', { action: 'restart' }, { timeout_s: 10 }],
  ['restart with a timeout', { action: 'restart', params: { timeout_s: 30 } }, { timeout_s: 30 }],
  ['stop with the default timeout', { action: 'stop', params: {} }, { timeout_s: 10 }],
  // Same age: replica 1 is web-1 (by name); web-2 and web-3 go, named by id in the plan.
  [
    'scale down',
    { action: 'scale', params: { replicas: 1 } },
    { replicas: 1, remove_containers: [hex64('2'), hex64('9')] },
  ],
  ['scale up', { action: 'scale', params: { replicas: 5 } }, { replicas: 5, remove_containers: [] }],
  [
    'scale to 0 (web-1 stays, stopped, as the template)',
    { action: 'scale', params: { replicas: 0 } },
    { replicas: 0, remove_containers: [hex64('2'), hex64('9')] },
  ],
  ['remove with defaults', { action: 'remove' }, { volumes: false, archive: true }],
  [
    'remove with volumes',
    { action: 'remove', params: { volumes: true, archive: false } },
    { volumes: true, archive: false },
  ],
  [
    'set_env',
    {
      action: 'set_env',
      params: {
        set: {
          DB_PASSWORD: { secret: 'db-password' },
          API_URL: 'https://api.example.com',
          TOKEN: { secret: 'api.token' },
        },
        unset: ['OLD_TOKEN', 'LEGACY_FLAG'],
      },
    },
    {
      set: {
        API_URL: { value: 'https://api.example.com' },
        DB_PASSWORD: { secret: 'db-password', hmac_sha256: HMAC_DB },
        TOKEN: { secret: 'api.token', hmac_sha256: HMAC_API },
      },
      unset: ['LEGACY_FLAG', 'OLD_TOKEN'],
    },
  ],
  [
    'set_env unset only',
    { action: 'set_env', params: { unset: ['b', 'B', 'a'] } },
    { set: {}, unset: ['B', 'a', 'b'] },
  ],
  ['rollback to the previous release', { action: 'rollback' }, { to_release: 'web:r1', image_id: IMAGE_B }],
  [
    'rollback to a named release',
    { action: 'rollback', params: { to: 'web:r2' } },
    { to_release: 'web:r2', image_id: IMAGE_A },
  ],
  [
    'prune images',
    { action: 'prune', target: 'local', params: { what: 'images' } },
    { what: 'images', items: [IMAGE_A, IMAGE_B] },
  ],
];

describe('buildPlan', () => {
  it.each(cases)('%s', (_name, data, desired) => {
    const req = request(data);
    const plan = buildPlan(input(req));
    expect(PlanSchema.parse(plan)).toEqual(plan);
    expect(plan).toEqual({
      plan_version: 1,
      action: req.action,
      host: 'local',
      service: req.action === 'prune' ? 'local' : 'web',
      environment: 'production',
      request_id: null,
      requested_by: null,
      preconditions: expectedPreconditions,
      desired,
    });
  });

  it('carries request_id and requested_by, and the REAL environment', () => {
    const req = request({
      action: 'restart',
      environment: 'staging',
      request_id: 'forge:build-42',
      requested_by: 'forge',
    });
    const plan = buildPlan(input(req, { environment: 'production' }));
    expect(plan.environment).toBe('production');
    expect(plan.request_id).toBe('forge:build-42');
    expect(plan.requested_by).toBe('forge');
  });

  it('plans prune of containers with full container ids, and service = host', () => {
    const req = request({ action: 'prune', target: 'local', params: { what: 'containers' } });
    const plan = buildPlan(
      input(req, { service: 'ignored', containers: [], pruneItems: [hex64('f'), hex64('0'), hex64('f')] }),
    );
    expect(plan).toMatchObject({
      service: 'local',
      desired: { what: 'containers', items: [hex64('0'), hex64('f')] },
    });
    expect(plan.preconditions.containers).toEqual([]);
  });

  it('gives the same hash whatever the order of its inputs', () => {
    const data = {
      action: 'set_env',
      request_id: 'forge:42',
      params: {
        set: { B: 'x', A: { secret: 'db-password' }, C: { secret: 'api.token' } },
        unset: ['Z', 'Y'],
      },
    };
    const one = buildPlan(input(request(data)));
    const reordered = buildPlan({
      ...reverseKeys(input(request(reverseKeys({ ...data, params: { ...data.params, unset: ['Y', 'Z'] } })))),
      configKey: CONFIG_KEY,
      containers: [C3, C1, C2].map(reverseKeys),
    });
    expect(planHash(reordered)).toBe(planHash(one));

    const prune = (items: string[], cs: (typeof C1)[]) =>
      planHash(
        buildPlan(
          input(request({ action: 'prune', target: 'local', params: { what: 'images' } }), {
            pruneItems: items,
            containers: cs,
          }),
        ),
      );
    expect(prune([IMAGE_B, IMAGE_A, IMAGE_B], [C2, C3])).toBe(prune([IMAGE_A, IMAGE_B], [C3, C2]));
  });

  it('hash is stable under any permutation and key order of its inputs (property: 1000 runs)', () => {
    const base = planHash(buildPlan(input(request({ action: 'scale', params: { replicas: 5 } }))));
    let runs = 0;
    fc.assert(
      fc.property(
        fc.shuffledSubarray([C1, C2, C3], { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        (cs, reverse) => {
          runs++;
          const containers = reverse ? cs.map(reverseKeys) : cs;
          const req = request(
            reverse
              ? reverseKeys({ params: { replicas: 5 }, action: 'scale' })
              : { action: 'scale', params: { replicas: 5 } },
          );
          expect(planHash(buildPlan(input(req, { containers })))).toBe(base);
        },
      ),
      { numRuns: 1000 },
    );
    console.log(`plan hash order property: ${runs} runs`);
  });

  it('changes hash when a container changes', () => {
    const req = request({ action: 'restart' });
    const before = planHash(buildPlan(input(req)));
    const changed = inspectFixture(hex64('c'), 'web-1', { HostConfig: { Privileged: true } });
    expect(planHash(buildPlan(input(req, { containers: [changed, C2, C3] })))).not.toBe(before);
    const restarted = inspectFixture(hex64('c'), 'web-1', {
      State: { Pid: 1, StartedAt: '2027-01-01T00:00:00Z' },
    });
    expect(planHash(buildPlan(input(req, { containers: [restarted, C2, C3] })))).toBe(before);
  });

  describe('refusals', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        expect(err).toBeInstanceOf(PlanError);
        return [(err as PlanError).code, (err as PlanError).message];
      }
      throw new Error('no PlanError');
    };

    it('rollback with nothing to go back to', () => {
      expect(
        code(() =>
          buildPlan(
            input(request({ action: 'rollback' }), { releases: { current: 'web:r1', previous: null } }),
          ),
        ),
      ).toEqual(['rollback_unavailable', 'web has no earlier release to roll back to']);
      expect(code(() => buildPlan(input(request({ action: 'rollback' }), { releases: undefined })))[0]).toBe(
        'rollback_unavailable',
      );
      expect(code(() => buildPlan(input(request({ action: 'rollback', params: { to: 'web:r9' } }))))).toEqual(
        ['rollback_unavailable', 'web has no release "web:r9" that Helm knows of'],
      );
      expect(
        code(() => buildPlan(input(request({ action: 'rollback', params: { to: 'constructor' } }))))[0],
      ).toBe('rollback_unavailable');
    });

    it('what the caller forgot to pass', () => {
      const deploy = request({ action: 'deploy', params: { image: 'web:1', image_id: IMAGE_A } });
      expect(code(() => buildPlan(input(deploy, { releases: { current: null } })))).toEqual([
        'internal',
        'a deploy plan needs the id of the new release',
      ]);
      const setEnv = request({ action: 'set_env', params: { set: { A: { secret: 'missing' } } } });
      expect(code(() => buildPlan(input(setEnv)))).toEqual([
        'internal',
        'no HMAC for secret "missing": read the secret store before planning',
      ]);
      const prune = request({ action: 'prune', target: 'local', params: { what: 'images' } });
      expect(code(() => buildPlan(input(prune, { pruneItems: undefined })))[0]).toBe('internal');
    });

    it('reads have no plan', () => {
      for (const action of ['health_check', 'logs']) {
        expect(code(() => buildPlan(input(request({ action }))))).toEqual([
          'internal',
          `${action} is a safe read and has no plan (reads are never gated)`,
        ]);
      }
    });

    it('anything that would break the contract', () => {
      const req = request({ action: 'restart' });
      expect(code(() => buildPlan(input(req, { containers: [C1, C1] })))).toEqual([
        'internal',
        'container cccccccccccc was passed twice',
      ]);
      const shortId = inspectFixture('abc', 'x');
      expect(code(() => buildPlan(input(req, { containers: [shortId] })))).toEqual([
        'internal',
        'the restart plan does not fit the contract: preconditions.containers[0].id: must be a full container id (64 lowercase hex digits)',
      ]);
      const prune = request({ action: 'prune', target: 'local', params: { what: 'images' } });
      expect(code(() => buildPlan(input(prune, { pruneItems: [hex64('a')] })))[1]).toMatch(
        /items must be image ids for images and container ids for containers/,
      );
      const setEnv = request({ action: 'set_env', params: { set: { A: { secret: 'db-password' } } } });
      expect(code(() => buildPlan(input(setEnv, { secretHmacs: { 'db-password': 'NOT-HEX' } })))[1]).toMatch(
        /desired\.set\.A/,
      );
      const float = inspectFixture(hex64('c'), 'web-1', { Config: { Healthcheck: { Interval: 0.5 } } });
      expect(() => buildPlan(input(req, { containers: [float] }))).toThrow(/config_hmac/);
    });
  });
});

describe('which containers a scale-down plan names', () => {
  const at = (iso: string, running = true) => ({
    Created: iso,
    State: { Running: running, Restarting: false, Status: running ? 'running' : 'exited' },
  });
  const OLD = inspectFixture(hex64('a'), 'w', at('2026-11-01T00:00:00Z'));
  const MID = inspectFixture(hex64('b'), 'w-2', at('2026-11-02T00:00:00Z'));
  const NEW = inspectFixture(hex64('1'), 'w-3', at('2026-11-03T00:00:00Z'));
  const OLD_STOPPED = inspectFixture(hex64('5'), 'w-4', at('2026-10-01T00:00:00Z', false));
  it.each([
    ['the newest go', [OLD, MID, NEW], 1, [NEW, MID]],
    ['one goes', [NEW, OLD, MID], 2, [NEW]],
    ['a stopped one goes before a running one, however old', [OLD, MID, OLD_STOPPED], 2, [OLD_STOPPED]],
    ['to 0 the oldest running stays (the template)', [MID, NEW, OLD], 0, [NEW, MID]],
    ['up: none', [OLD], 3, []],
    ['same count: none', [OLD, MID], 2, []],
  ] as const)('%s', (_name, containers, replicas, goes) => {
    const plan = buildPlan(
      input(request({ action: 'scale', params: { replicas } }), { containers: [...containers] }),
    );
    expect(plan.desired).toEqual({ replicas, remove_containers: goes.map((c) => c.Id).sort() });
  });

  it('the contract refuses a plan that removes a container it does not list', () => {
    const plan = buildPlan(input(request({ action: 'scale', params: { replicas: 1 } })));
    const forged = { ...plan, desired: { replicas: 1, remove_containers: [hex64('7')] } };
    expect(PlanSchema.safeParse(forged).success).toBe(false);
    expect(PlanSchema.safeParse(plan).success).toBe(true);
  });
});

describe('policyInputOf: what the policy is asked about a plan', () => {
  const of = (data: Record<string, unknown>) => policyInputOf(buildPlan(input(request(data))));
  it.each([
    [{ action: 'scale', params: { replicas: 1 } }, 'down', false],
    [{ action: 'scale', params: { replicas: 5 } }, 'up', false],
    [{ action: 'scale', params: { replicas: 3 } }, 'same', false],
    [{ action: 'remove' }, null, false],
    [{ action: 'remove', params: { volumes: true } }, null, false],
    [{ action: 'remove', params: { volumes: true, archive: false } }, null, true],
    [{ action: 'remove', params: { volumes: false, archive: false } }, null, false],
    [{ action: 'restart' }, null, false],
  ] as const)('%j → direction %s, deletes unarchived data %s', (data, direction, deletes) => {
    expect(of(data)).toEqual({
      action: data.action,
      environment: 'production',
      direction,
      deletesUnarchivedData: deletes,
    });
  });
});

describe('scaleDirection', () => {
  it.each([
    [2, 3, 'up'],
    [3, 2, 'down'],
    [2, 2, 'same'],
    [0, 0, 'same'],
    [1, 0, 'down'],
    [0, 50, 'up'],
    [-1, 2, null],
    [1.5, 2, null],
    [Number.NaN, 2, null],
    [2, Number.POSITIVE_INFINITY, null],
  ] as const)('%d → %d is %s', (current, wanted, expected) => {
    expect(scaleDirection(current, wanted)).toBe(expected);
  });
});
