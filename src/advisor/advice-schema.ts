// The one shape every model answer must have, as zod (for Helm) and as JSON Schema (for the model:
// Ollama's `format`, Anthropic's forced tool `input_schema`). validateAdvice then checks what a schema
// cannot: every cited evidence id is one Helm gave, and every proposal is a valid ActionRequest by the
// contract's own schemas (so params are checked per action, the production deploy rule included).
// Its problems are plain words, fit to send back to the model for the one retry.
import { z } from 'zod';
import {
  type ActionRequest,
  describeIssues,
  ActionSchema,
  EnvironmentSchema,
  type Environment,
  isPlainObject,
  parseActionRequest,
  plainWordsErrorMap,
  quoteForMessage,
  REASON_MAX_CODE_POINTS,
  TargetSchema,
} from '../contracts/index.js';

/** Who the ActionRequests built from proposals name as requester (informational, never authority). */
export const ADVISOR_REQUESTER = 'helm-advisor';

const MAX_TEXT = 1000;

const EvidenceIdsSchema = z.array(z.string().min(1).max(128)).max(20).meta({
  description: 'Ids of the evidence items (as Helm gave them) this rests on.',
});

const prose = (max: number, description: string) => z.string().min(1).max(max).meta({ description });

export const FindingSchema = z.strictObject({
  statement: prose(MAX_TEXT, 'What the evidence shows.'),
  evidence_ids: EvidenceIdsSchema.min(1),
});

export const PossibleCauseSchema = z.strictObject({
  cause: prose(MAX_TEXT, 'A possible cause, in plain words.'),
  confidence: z.number().min(0).max(1).meta({ description: 'From 0 (a guess) to 1 (certain).' }),
  evidence_ids: EvidenceIdsSchema,
});

export const ProposalSchema = z.strictObject({
  action: ActionSchema,
  target: TargetSchema,
  environment: EnvironmentSchema.optional().meta({
    description: "Only for plain-words requests; an incident's proposals use the incident's environment.",
  }),
  params: z.record(z.string(), z.unknown()).optional().meta({ description: "The action's params." }),
  rationale: prose(REASON_MAX_CODE_POINTS, 'Why; becomes the request reason.'),
  evidence_ids: EvidenceIdsSchema,
});

export const AdviceSchema = z.strictObject({
  summary: prose(2000, 'What is going on, in a few sentences. "Inconclusive" is an honest answer.'),
  findings: z.array(FindingSchema).max(20),
  possible_causes: z.array(PossibleCauseSchema).max(10),
  unknowns: z.array(prose(500, 'Something the evidence does not tell.')).max(10),
  proposals: z.array(ProposalSchema).max(10),
});

export type Advice = z.infer<typeof AdviceSchema>;
export type Proposal = z.infer<typeof ProposalSchema>;

/** JSON Schema of the answer, without `$schema` (Anthropic's input_schema and Ollama's format take the object). */
export const ADVICE_JSON_SCHEMA: Readonly<Record<string, unknown>> = (() => {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(AdviceSchema) as Record<string, unknown>;
  return schema;
})();

export interface ValidateAdviceOptions {
  /** The ids of the evidence items Helm put in the prompt. */
  evidenceIds: Iterable<string>;
  /** The incident's environment. Absent (a plain-words request): the proposal's own, else production. */
  environment?: Environment;
}

export type ValidatedAdvice =
  | { ok: true; advice: Advice; requests: ActionRequest[] }
  | { ok: false; problems: string[] };

/** The answer checked against the schema, Helm's evidence ids and the contract. Never throws. */
export function validateAdvice(raw: unknown, options: ValidateAdviceOptions): ValidatedAdvice {
  let value = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      return { ok: false, problems: ['the answer is not JSON: answer with one JSON object of the schema'] };
    }
  }
  if (!isPlainObject(value))
    return { ok: false, problems: ['the answer must be one JSON object of the schema'] };
  // The contract's plain words: path, rule, and a submitted value only when it is an enum-like one.
  const parsed = AdviceSchema.safeParse(value, { error: plainWordsErrorMap });
  if (!parsed.success) return { ok: false, problems: describeIssues(parsed.error.issues, value) };

  const advice = parsed.data;
  const known = new Set(options.evidenceIds);
  const problems = inventedEvidenceProblems(advice, known);
  const requests: ActionRequest[] = [];
  advice.proposals.forEach((proposal, i) => {
    const built = proposalRequest(proposal, options.environment);
    if (built.ok) requests.push(built.request);
    else problems.push(...built.problems.map((p) => `proposals[${i}]: ${p}`));
  });
  return problems.length === 0 ? { ok: true, advice, requests } : { ok: false, problems };
}

/** The message for the one retry: the problems, and what to do. */
export function retryInstruction(problems: readonly string[]): string {
  return [
    'Your answer was refused for these reasons:',
    ...problems.map((p) => `- ${p}`),
    'Answer again with one JSON object of the same schema. Cite only the evidence ids you were given;',
    'propose only actions of the list, with params valid for that action. "Inconclusive" is a valid summary.',
  ].join('\n');
}

function inventedEvidenceProblems(advice: Advice, known: ReadonlySet<string>): string[] {
  const cited: [string, readonly string[]][] = [
    ...advice.findings.map((f, i): [string, readonly string[]] => [`findings[${i}]`, f.evidence_ids]),
    ...advice.possible_causes.map((c, i): [string, readonly string[]] => [
      `possible_causes[${i}]`,
      c.evidence_ids,
    ]),
    ...advice.proposals.map((p, i): [string, readonly string[]] => [`proposals[${i}]`, p.evidence_ids]),
  ];
  const problems: string[] = [];
  for (const [where, ids] of cited) {
    ids.forEach((id, j) => {
      if (!known.has(id)) {
        problems.push(
          `${where}.evidence_ids[${j}]: ${quoteForMessage(id)} is not an evidence id you were given`,
        );
      }
    });
  }
  return problems;
}

function proposalRequest(
  proposal: Proposal,
  incidentEnvironment: Environment | undefined,
): { ok: true; request: ActionRequest } | { ok: false; problems: string[] } {
  if (incidentEnvironment && proposal.environment && proposal.environment !== incidentEnvironment) {
    return {
      ok: false,
      problems: [`environment must be ${incidentEnvironment} (the incident's) or left out`],
    };
  }
  const candidate = {
    action: proposal.action,
    target: proposal.target,
    // Default is no: an environment nobody stated is production, so the gate waits for Warden.
    environment: incidentEnvironment ?? proposal.environment ?? 'production',
    reason: proposal.rationale,
    requested_by: ADVISOR_REQUESTER,
    ...(proposal.params === undefined ? {} : { params: proposal.params }),
  };
  const parsed = parseActionRequest(candidate);
  return parsed.ok ? { ok: true, request: parsed.request } : parsed;
}
