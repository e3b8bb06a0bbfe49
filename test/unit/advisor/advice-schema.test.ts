import { describe, expect, it } from 'vitest';
import {
  ADVICE_JSON_SCHEMA,
  type Advice,
  AdviceSchema,
  retryInstruction,
  validateAdvice,
} from '../../../src/advisor/advice-schema.js';
import { ACTIONS } from '../../../src/contracts/index.js';

const EVIDENCE = ['inspect', 'log-1', 'log-2', 'events'];

function advice(overrides: Partial<Advice> = {}): Advice {
  return {
    summary: 'web was killed for using too much memory.',
    findings: [{ statement: 'exit code 137 with OOMKilled', evidence_ids: ['inspect'] }],
    possible_causes: [{ cause: 'memory limit too low', confidence: 0.8, evidence_ids: ['inspect', 'log-2'] }],
    unknowns: ['whether traffic grew'],
    proposals: [{ action: 'restart', target: 'web', rationale: 'bring it back', evidence_ids: ['inspect'] }],
    ...overrides,
  };
}

function proposal(p: Record<string, unknown>) {
  return { ...advice(), proposals: [{ target: 'web', rationale: 'why', evidence_ids: ['inspect'], ...p }] };
}

describe('validateAdvice', () => {
  it('accepts a valid answer and builds the ActionRequests, requested by helm-advisor', () => {
    const result = validateAdvice(advice(), { evidenceIds: EVIDENCE, environment: 'staging' });
    expect(result).toEqual({
      ok: true,
      advice: advice(),
      requests: [
        {
          action: 'restart',
          target: 'web',
          environment: 'staging',
          reason: 'bring it back',
          requested_by: 'helm-advisor',
        },
      ],
    });
  });

  it('accepts the answer as JSON text, and an inconclusive one without proposals', () => {
    const inconclusive = advice({
      summary: 'Inconclusive',
      findings: [],
      possible_causes: [],
      proposals: [],
    });
    expect(validateAdvice(JSON.stringify(inconclusive), { evidenceIds: [] }).ok).toBe(true);
  });

  it('a request with no stated environment is production (the gate then waits for Warden)', () => {
    const result = validateAdvice(advice(), { evidenceIds: EVIDENCE });
    expect(result.ok && result.requests[0]?.environment).toBe('production');
  });

  it.each<[string, unknown, RegExp]>([
    ['not JSON', 'sure! here is the answer', /not JSON/],
    ['not an object', '[1,2]', /one JSON object/],
    [
      'an invented evidence id in a finding',
      advice({ findings: [{ statement: 's', evidence_ids: ['ev-99'] }] }),
      /^findings\[0\]\.evidence_ids\[0\]: "ev-99" is not an evidence id you were given$/,
    ],
    [
      'an invented evidence id in a proposal',
      proposal({ action: 'restart', evidence_ids: ['inspect', 'x'] }),
      /^proposals\[0\]\.evidence_ids\[1\]: "x" is not an evidence id/,
    ],
    [
      'a finding without evidence',
      advice({ findings: [{ statement: 's', evidence_ids: [] }] }),
      /findings\[0\]\.evidence_ids: must have at least 1 items/,
    ],
    [
      'an action outside the enum',
      proposal({ action: 'exec' }),
      /proposals\[0\]\.action: must be one of deploy, restart/,
    ],
    [
      'a confidence above 1',
      advice({ possible_causes: [{ cause: 'c', confidence: 1.5, evidence_ids: [] }] }),
      /possible_causes\[0\]\.confidence: must be at most 1/,
    ],
    ['an unknown field', { ...advice(), approved_by_warden: true }, /unknown field "approved_by_warden"/],
    [
      'scale without replicas',
      proposal({ action: 'scale', params: {} }),
      /^proposals\[0\]: params\.replicas is required for scale$/,
    ],
    [
      'scale beyond the contract',
      proposal({ action: 'scale', params: { replicas: 500 } }),
      /^proposals\[0\]: params\.replicas: must be an integer from 0 to 50$/,
    ],
    [
      'a param the action does not take',
      proposal({ action: 'restart', params: { force: true } }),
      /^proposals\[0\]: params: unknown field "force" \(restart takes timeout_s\)$/,
    ],
    [
      'a production deploy without image id or digest',
      proposal({ action: 'deploy', params: { image: 'evil:latest' } }),
      /params\.image_id or params\.manifest_digest is required for deploy to production/,
    ],
    [
      'a bad target',
      proposal({ action: 'restart', target: '../etc' }),
      /proposals\[0\]\.target: must start with a letter/,
    ],
    [
      'another environment than the incident',
      proposal({ action: 'restart', environment: 'dev' }),
      /^proposals\[0\]: environment must be production \(the incident's\) or left out$/,
    ],
  ])('refuses %s, in plain words', (_name, raw, problem) => {
    const result = validateAdvice(raw, { evidenceIds: EVIDENCE, environment: 'production' });
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(
        result.problems.some((p) => problem.test(p)),
        result.problems.join('\n'),
      ).toBe(true);
  });

  it('never quotes a long or hostile value back', () => {
    const hostile = `ev-${'A'.repeat(500)}\u001b[31m`;
    const result = validateAdvice(advice({ findings: [{ statement: 's', evidence_ids: [hostile] }] }), {
      evidenceIds: EVIDENCE,
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems.join('\n')).not.toContain('A'.repeat(100));
      expect(result.problems.join('\n')).not.toContain('\u001b');
    }
  });

  it('the retry instruction lists the problems and what to do', () => {
    const text = retryInstruction(['proposals[0].action: must be one of deploy']);
    expect(text).toContain('- proposals[0].action: must be one of deploy');
    expect(text).toMatch(/Cite only the evidence ids you were given/);
  });
});

describe('ADVICE_JSON_SCHEMA', () => {
  it('is one strict object schema without $schema, its action enum the contract one', () => {
    expect(ADVICE_JSON_SCHEMA['$schema']).toBeUndefined();
    expect(ADVICE_JSON_SCHEMA['type']).toBe('object');
    expect(ADVICE_JSON_SCHEMA['additionalProperties']).toBe(false);
    expect(ADVICE_JSON_SCHEMA['required']).toEqual([
      'summary',
      'findings',
      'possible_causes',
      'unknowns',
      'proposals',
    ]);
    const proposals = (
      ADVICE_JSON_SCHEMA['properties'] as Record<
        string,
        { items: { properties: Record<string, { enum?: unknown }> } }
      >
    )['proposals']!;
    expect(proposals.items.properties['action']?.enum).toEqual([...ACTIONS]);
  });

  it('matches the zod schema: a valid answer is valid for both', () => {
    expect(AdviceSchema.safeParse(advice()).success).toBe(true);
  });
});
