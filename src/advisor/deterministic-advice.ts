// The answer Helm gives when no model answers, in the same shape as a model's (AdviceSchema), so a
// diagnosis alert always carries the same details: the deterministic summary, the analyzers' findings
// with their evidence ids, why no model took part, and no proposals (Helm's analyzers name causes;
// choosing an action stays with the owner or a model).
import { takeCodePoints } from '../contracts/index.js';
import type { Advice } from './advice-schema.js';
import { analyzeEvidence, summariseEvidence } from './evidence-analyzers.js';
import type { EvidenceBundle } from './evidence-bundle.js';

/** The schema's bounds, so the result always passes validateAdvice. */
const MAX_SUMMARY = 2000;
const MAX_STATEMENT = 1000;
const MAX_UNKNOWN = 500;

/** `why`: in Helm's words why no model answered, e.g. "no model answered (timeout)". */
export function deterministicAdvice(bundle: EvidenceBundle, why: string): Advice {
  return {
    summary: cut(summariseEvidence(bundle), MAX_SUMMARY),
    findings: analyzeEvidence(bundle).map((f) => ({
      statement: cut(f.statement, MAX_STATEMENT),
      evidence_ids: f.evidence_ids,
    })),
    possible_causes: [],
    unknowns: [cut(`${why}: this is Helm's own analysis, without a model.`, MAX_UNKNOWN)],
    proposals: [],
  };
}

/** The text cut to `max` code points, an ellipsis marking the cut. */
export function cut(text: string, max: number): string {
  const kept = takeCodePoints(text, max);
  return kept === text ? text : `${takeCodePoints(text, max - 1)}…`;
}
