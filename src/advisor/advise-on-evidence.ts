// One model consultation on gathered evidence, shared by the diagnosis and the deploy review: the
// evidence redacted (env values, the owner's secrets) and fenced, one bounded loop through the
// fallback chain with one read-only tool, the answer validated against the evidence ids and the
// contract. No model answering, or an inconclusive loop, gives Helm's deterministic summary, and the
// note says which.
import type { ActionRequest, Environment } from '../contracts/index.js';
import { ADVICE_JSON_SCHEMA, type Advice, validateAdvice } from './advice-schema.js';
import { ANSWER_NAME, advisorSystemPrompt } from './advisor-prompt.js';
import { deterministicAdvice } from './deterministic-advice.js';
import type { DiagnosisSource } from './diagnosis-alert.js';
import { type EvidenceBundle, evidenceIds } from './evidence-bundle.js';
import { evidenceForModel } from './evidence-for-model.js';
import { createFence } from './fence-untrusted.js';
import { type ReadOnlyTool, runModelLoop, type Validation } from './model-loop.js';
import type { ModelRunner } from './model-runner.js';
import { createModelRedactor } from './redact-for-model.js';
import { untrustedForModel } from './untrusted-for-model.js';

export interface GatheredEvidence {
  bundle: EvidenceBundle;
  /** Env values to mask (never in a prompt). */
  secretsToMask: readonly string[];
  publicValues: readonly string[];
  gaps: readonly string[];
}

export interface ModelAsk {
  models: ModelRunner;
  /** The owner's secret-store values: masked in every prompt whatever they look like. */
  secretValues(): Promise<Iterable<string>>;
  /** The whole consultation's wall-clock bound. */
  timeoutMs: number;
  /** One model call's bound. @defaultValue timeoutMs / 3 */
  callTimeoutMs?: number;
}

export interface EvidenceAdvice {
  advice: Advice;
  requests: ActionRequest[];
  source: DiagnosisSource;
  /** A model's own valid answer (not Helm's summary standing in for none or an inconclusive one). */
  answered: boolean;
}

export async function adviseOnEvidence(
  deps: ModelAsk,
  gathered: GatheredEvidence,
  o: {
    escalate: boolean;
    trigger: DiagnosisSource['trigger'];
    /** Proposals are for this environment (an incident's); absent: their own, else production. */
    environment?: Environment;
    /** The user turn around the fenced evidence; `data` fences (and redacts) any other untrusted text. */
    prompt: (evidence: string, data: (id: string, text: string) => string) => string;
    description: string;
  },
): Promise<EvidenceAdvice> {
  const fence = createFence();
  const redactor = createModelRedactor({
    envValues: gathered.secretsToMask,
    secretValues: await deps.secretValues(),
    publicValues: gathered.publicValues,
  });
  const evidence = evidenceForModel(gathered.bundle, { fence, redactor });
  const ids = evidenceIds(gathered.bundle);
  const started = Date.now();
  const outcome = await deps.models.run(o.escalate, ({ client, escalated }) =>
    runModelLoop<Pick<EvidenceAdvice, 'advice' | 'requests'>>({
      client,
      escalated,
      system: advisorSystemPrompt(fence),
      prompt: o.prompt(evidence, (id, text) => untrustedForModel({ id, text }, { fence, redactor })),
      tools: [evidenceTool(evidence)],
      output: { name: ANSWER_NAME, description: o.description, schema: ADVICE_SCHEMA },
      validate: (raw) => adviceValidation(raw, ids, o.environment),
      deadline: started + deps.timeoutMs,
      callTimeoutMs: deps.callTimeoutMs ?? Math.ceil(deps.timeoutMs / 3),
    }),
  );
  const trigger = o.trigger;
  if (outcome.model === null) {
    return {
      advice: deterministicAdvice(gathered.bundle, 'No model answered'),
      requests: [],
      source: { model: null, escalated: false, trigger, note: outcome.note },
      answered: false,
    };
  }
  const source = { model: outcome.model, escalated: outcome.escalated, trigger, note: outcome.note };
  const loop = outcome.value;
  if (loop.outcome === 'answered') return { ...loop.value, source, answered: true };
  return {
    advice: deterministicAdvice(gathered.bundle, `${outcome.model} was inconclusive (${loop.reason})`),
    requests: [],
    source: { ...source, note: `${outcome.note} Its answer was inconclusive (${loop.reason}).` },
    answered: false,
  };
}

const ADVICE_SCHEMA = ADVICE_JSON_SCHEMA as Record<string, unknown>;

function adviceValidation(
  raw: unknown,
  ids: readonly string[],
  environment: Environment | undefined,
): Validation<Pick<EvidenceAdvice, 'advice' | 'requests'>> {
  const checked = validateAdvice(raw, { evidenceIds: ids, ...(environment ? { environment } : {}) });
  return checked.ok
    ? { ok: true, value: { advice: checked.advice, requests: checked.requests } }
    : { ok: false, errors: checked.problems };
}

/** The one read-only tool: an evidence item again, by id (as fenced in the prompt). */
function evidenceTool(evidence: string): ReadOnlyTool {
  return {
    name: 'read_evidence',
    description: 'The lines of the evidence with this id, as given above.',
    inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    async run(args) {
      const id = String(args['id'] ?? '');
      const lines = evidence.split('\n').filter((l) => l.startsWith(`[${id}]`));
      return lines.length > 0 ? lines.join('\n') : `No evidence item has the id ${JSON.stringify(id)}.`;
    },
  };
}
