import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ACTIONS, ENVIRONMENTS } from '../../../src/contracts/index.js';
import { isEnvironment } from '../../../src/policy/environment-of.js';
import {
  DEFAULT_POLICY,
  type Direction,
  decide,
  isChangingAction,
  type Policy,
  strictness,
  READ_ACTIONS,
} from '../../../src/policy/policy.js';
import { loadPolicy } from '../../../src/policy/policy-file.js';

const RUNS = 5000;

const actionArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ACTIONS) },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom('reboot', 'DEPLOY', '__proto__', 'exec')) },
);
const environmentArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ENVIRONMENTS) },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom('prod', 'qa', '*', 'Production')) },
);
const directionArb = fc.constantFrom<Direction | null>('up', 'down', 'same', null);
const inputArb = fc.record(
  {
    action: actionArb,
    environment: environmentArb,
    direction: directionArb,
    automaticRollback: fc.boolean(),
  },
  { requiredKeys: ['action', 'environment', 'direction'] },
);

const CHANGES = ACTIONS.filter((a) => !(READ_ACTIONS as readonly string[]).includes(a));
const ruleArb = (actions: readonly string[]) =>
  fc.record({
    environment: fc.constantFrom(...ENVIRONMENTS, '*'),
    actions: fc.oneof(
      fc.constant('*' as const),
      fc.uniqueArray(fc.constantFrom(...actions), { minLength: 1 }),
    ),
  });

/** A random owner policy file, as the owner would write it (then loaded through the real loader). */
const policyFileArb = fc.record(
  {
    require_approval: fc.array(ruleArb(CHANGES), { maxLength: 4 }),
    deny: fc.array(ruleArb(ACTIONS), { maxLength: 3 }),
    classify: fc.array(
      fc.record({
        pattern: fc.stringMatching(/^[a-z0-9*?-]{1,12}$/),
        environment: fc.constantFrom(...ENVIRONMENTS),
      }),
      { maxLength: 3 },
    ),
    approval_deadline_s: fc.integer({ min: 60, max: 86_400 }),
  },
  { requiredKeys: [] },
);

function load(file: object): Policy {
  const loaded = loadPolicy(stringify(file));
  if (!loaded.ok) throw new Error(`a tightening policy was refused: ${loaded.problems.join('; ')}`);
  return loaded.policy;
}

describe('policy properties', () => {
  it(`a production change or a scale-down is never auto, and an owner policy never weakens a verdict (${RUNS} runs)`, () => {
    let runs = 0;
    let productionOrScaleDown = 0;
    fc.assert(
      fc.property(inputArb, policyFileArb, (input, file) => {
        runs++;
        const policy = load(file);
        const owner = decide(input, policy);
        const card = decide(input, DEFAULT_POLICY);

        const inProduction = !(isEnvironment(input.environment) && input.environment !== 'production');
        const scaleDown = input.action === 'scale' && input.direction !== 'up' && input.direction !== 'same';
        const gated = isChangingAction(input.action) && (inProduction || scaleDown);
        const exempt = input.action === 'rollback' && input.automaticRollback === true;
        if (gated && !exempt) {
          productionOrScaleDown++;
          expect(card.decision).not.toBe('auto');
          expect(owner.decision).not.toBe('auto');
        }
        if (!(ACTIONS as readonly string[]).includes(input.action)) expect(owner.decision).toBe('deny');
        expect(strictness(owner.decision)).toBeGreaterThanOrEqual(strictness(card.decision));
        expect(owner.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
    console.log(`policy property: ${runs} runs, ${productionOrScaleDown} production changes or scale-downs`);
    expect(runs).toBe(RUNS);
  });

  it(`a file with a loosening key anywhere is refused (${RUNS} runs)`, () => {
    const looseKey = fc.constantFrom(
      'allow',
      'auto',
      'no_approval',
      'auto_approve',
      'exempt',
      'skip',
      'bypass',
    );
    let runs = 0;
    fc.assert(
      fc.property(policyFileArb, looseKey, fc.jsonValue(), fc.nat(3), (file, key, value, where) => {
        runs++;
        const doc: Record<string, unknown> = structuredClone(file);
        const rules = (doc['require_approval'] as Record<string, unknown>[] | undefined) ?? [];
        if (where === 0 || rules.length === 0) doc[key] = value;
        else (rules[0] as Record<string, unknown>)[key] = value;
        const loaded = loadPolicy(stringify(doc));
        expect(loaded.ok).toBe(false);
        if (!loaded.ok) expect(loaded.problems.join('\n')).toMatch(/would loosen the design card's rules/);
      }),
      { numRuns: RUNS },
    );
    console.log(`loosening property: ${runs} runs`);
    expect(runs).toBe(RUNS);
  });

  it(`loadPolicy never throws, and whatever it accepts never weakens a verdict (${RUNS} runs)`, () => {
    const key = fc.constantFrom(
      'require_approval',
      'deny',
      'classify',
      'approval_deadline_s',
      'stability_window_s',
      'environment',
      'actions',
      'pattern',
      'production',
      'allow',
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.constantFrom<unknown>(
          '*',
          'production',
          'staging',
          'dev',
          'deploy',
          'scale',
          'auto',
          false,
          true,
          null,
          61,
        ),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(key, tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    let runs = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 4 }), inputArb, (doc, input) => {
        runs++;
        const loaded = loadPolicy(stringify(doc));
        if (!loaded.ok) return;
        accepted++;
        const owner = decide(input, loaded.policy);
        const card = decide(input, DEFAULT_POLICY);
        expect(strictness(owner.decision)).toBeGreaterThanOrEqual(strictness(card.decision));
      }),
      { numRuns: RUNS },
    );
    console.log(`random documents: ${runs} runs, ${accepted} accepted`);
    expect(runs).toBe(RUNS);
  });
});
