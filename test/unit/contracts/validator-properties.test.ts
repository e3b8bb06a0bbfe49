import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  ActionResultSchema,
  AlertSchema,
  ApprovalRequestSchema,
  HeartbeatSchema,
  parseActionRequest,
  parseJobData,
  PlanSchema,
  TARGET_PATTERN,
} from '../../../src/contracts/index.js';

const RUNS = 5000;

/** Mostly valid, sometimes not: weight 4 for a good value, 1 for anything. */
const mostly = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: good, weight: 4 }, { arbitrary: fc.jsonValue(), weight: 1 });
const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);

/** Request-shaped objects: good and bad values and keys, so the deep paths (and success) run too. */
const requestLike = fc
  .record(
    {
      action: mostly(fc.constantFrom(...ACTIONS)),
      target: mostly(fc.oneof(fc.stringMatching(TARGET_PATTERN), fc.string({ unit: 'binary' }))),
      environment: mostly(fc.constantFrom('production', 'staging', 'dev')),
      reason: mostly(fc.string({ unit: 'binary', minLength: 1, maxLength: 30 })),
      request_id: mostly(fc.stringMatching(/^[a-z]{1,8}:[0-9]{1,4}$/)),
      params: mostly(
        fc.record(
          {
            image: mostly(
              fc.constantFrom('gw:1', 'registry:5000/a/b:2', '-rf', '../x', `gw@sha256:${'a'.repeat(64)}`),
            ),
            image_id: mostly(hex64.map((h) => `sha256:${h}`)),
            replicas: mostly(fc.integer({ min: -5, max: 60 })),
            timeout_s: mostly(fc.integer({ min: 0, max: 700 })),
            set: mostly(
              fc.dictionary(
                fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,5}$/),
                fc.oneof(
                  fc.string({ unit: 'binary' }),
                  fc.record({ secret: fc.stringMatching(/^[a-z][a-z.-]{0,8}$/) }),
                ),
                { minKeys: 1, maxKeys: 3 },
              ),
            ),
            unset: mostly(fc.uniqueArray(fc.stringMatching(/^[a-z_]{1,6}$/), { maxLength: 3 })),
            what: mostly(fc.constantFrom('images', 'containers')),
          },
          { requiredKeys: [] },
        ),
      ),
      extra: fc.jsonValue(),
    },
    { requiredKeys: ['action', 'target', 'environment', 'reason'] },
  )
  .map((r) => {
    // Most requests carry no unknown key, so that some are accepted.
    const { extra, ...rest } = r;
    return JSON.stringify(extra ?? null).length % 5 === 0 ? r : rest;
  });

function neverThrows(arbitrary: fc.Arbitrary<unknown>, label: string) {
  let runs = 0;
  let accepted = 0;
  fc.assert(
    fc.property(arbitrary, (data) => {
      runs++;
      const parsed = parseActionRequest(data);
      if (parsed.ok) accepted++;
      else {
        expect(parsed.problems.length).toBeGreaterThan(0);
        for (const line of parsed.problems) expect(line).not.toMatch(/[\n\r]/);
      }
    }),
    { numRuns: RUNS },
  );
  console.log(`[property] parseActionRequest never throws on ${label}: ${runs} runs, ${accepted} accepted`);
  expect(runs).toBe(RUNS);
}

describe('the validator never throws', () => {
  it(`on fc.jsonValue() (${RUNS} runs)`, () => neverThrows(fc.jsonValue(), 'fc.jsonValue()'));
  it(`on fc.anything() (${RUNS} runs)`, () =>
    neverThrows(fc.anything({ withBigInt: true, withMap: true }), 'fc.anything()'));
  it(`on request-shaped objects (${RUNS} runs)`, () => neverThrows(requestLike, 'request-shaped objects'));

  it(`nor do the other bus schemas (${RUNS} runs each)`, () => {
    for (const [name, schema] of Object.entries({
      ActionResultSchema,
      AlertSchema,
      ApprovalRequestSchema,
      HeartbeatSchema,
      PlanSchema,
    })) {
      let runs = 0;
      fc.assert(
        fc.property(fc.anything({ withBigInt: true }), (data) => {
          runs++;
          parseJobData(schema, data);
        }),
        { numRuns: RUNS },
      );
      console.log(`[property] parseJobData(${name}) never throws on fc.anything(): ${runs} runs`);
    }
  });
});

describe('accepted targets', () => {
  it(`always match the contract's pattern (${RUNS} runs)`, () => {
    let runs = 0;
    let accepted = 0;
    const target = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 140 }),
      fc.stringMatching(/^[a-zA-Z0-9_.\-;$() \n/]{0,130}$/),
      fc.stringMatching(TARGET_PATTERN),
    );
    fc.assert(
      fc.property(target, (t) => {
        runs++;
        const parsed = parseActionRequest({
          action: 'health_check',
          target: t,
          environment: 'dev',
          reason: 'r',
        });
        if (parsed.ok) {
          accepted++;
          expect(parsed.request.target).toMatch(TARGET_PATTERN);
        } else {
          expect(TARGET_PATTERN.test(t)).toBe(false);
        }
      }),
      { numRuns: RUNS },
    );
    console.log(`[property] accepted targets match the pattern: ${runs} runs, ${accepted} accepted`);
    expect(accepted).toBeGreaterThan(RUNS / 10);
  });
});
