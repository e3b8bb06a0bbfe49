import { describe, expect, it } from 'vitest';
import { validateAdvice } from '../../../src/advisor/advice-schema.js';
import { deterministicAdvice } from '../../../src/advisor/deterministic-advice.js';
import { type EvidenceBundle, evidenceIds } from '../../../src/advisor/evidence-bundle.js';
import { oomBundle } from './oom-bundle.js';

const LONG_NAMES = Array.from(
  { length: 40 },
  (_, i) => `ENV_${String(i).padStart(3, '0')}_${'X'.repeat(120)}`,
);

const BUNDLE: EvidenceBundle = oomBundle(7, {
  logs: [{ id: 'log-1', line: 'Killed' }],
  events: [{ id: 'ev-1', action: 'oom', time: '2026-12-03T13:00:00Z' }],
  releaseDiff: {
    id: 'diff',
    running: { releaseId: 'web:r2', image: 'web:2', envNames: [], mounts: [], ports: [] },
    previous: { releaseId: 'web:r1', image: 'web:1', envNames: LONG_NAMES, mounts: [], ports: [] },
  },
});

describe('deterministicAdvice', () => {
  it('is a valid answer of the output schema, citing only the bundle ids, with no proposals', () => {
    const advice = deterministicAdvice(BUNDLE, 'no model answered (timeout)');
    const result = validateAdvice(advice, { evidenceIds: evidenceIds(BUNDLE), environment: 'dev' });
    expect(result.ok, result.ok ? '' : result.problems.join('\n')).toBe(true);
    expect(advice.findings.map((f) => f.evidence_ids)).toEqual([['inspect', 'ev-1'], ['diff']]);
    expect(advice.proposals).toEqual([]);
    expect(advice.unknowns).toEqual([
      "no model answered (timeout): this is Helm's own analysis, without a model.",
    ]);
    expect(advice.summary.startsWith('web (dev), incident crash_loop.')).toBe(true);
  });

  it('cuts a long finding to the schema bound and marks it', () => {
    const advice = deterministicAdvice(BUNDLE, 'HELM_ADVISOR is off');
    const missing = advice.findings[1]!.statement;
    expect([...missing].length).toBeLessThanOrEqual(1000);
    expect(missing.endsWith('…')).toBe(true);
  });
});
