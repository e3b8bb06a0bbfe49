// Requests in plain words (issue 10, contract 1.2 decision 78): the model maps the owner's text to
// zero or more ActionRequests, each validated by the contract. Nothing derived → a question saying
// what is missing. One service → every request submitted to helm.actions (so gated like any
// request). Two or more services (trigger 3) → a plan from the escalation model, shown in full and
// submitted only when the request says `submit`. The text itself is untrusted data: fenced, and
// redacted of the owner's secret values, before it reaches a model.
import {
  type ActionRequest,
  type AdviceProposal,
  type PlainRequest,
  type PlainRequestAnswer,
  PlainRequestAnswerSchema,
} from '../contracts/index.js';
import { ADVICE_JSON_SCHEMA, validateAdvice } from './advice-schema.js';
import { ANSWER_NAME, advisorSystemPrompt } from './advisor-prompt.js';
import { cut } from './deterministic-advice.js';
import { createFence, type Fence } from './fence-untrusted.js';
import { runModelLoop, type Validation } from './model-loop.js';
import { routeModel } from './model-router.js';
import type { AdvisorLog, ModelRunner, ModelRunOutcome } from './model-runner.js';
import { createModelRedactor, type ModelRedactor } from './redact-for-model.js';
import { untrustedForModel } from './untrusted-for-model.js';

export interface PlainRequestDeps {
  models: ModelRunner;
  /** Hands a request to intake (helm.actions). */
  submit(request: ActionRequest): Promise<unknown>;
  /** The services Helm knows: the model picks among them; naming two or more escalates. */
  knownServices(): Promise<readonly string[]>;
  secretValues(): Promise<Iterable<string>>;
  log: AdvisorLog;
  timeoutMs: number;
  callTimeoutMs?: number;
  now(): Date;
}

type Mapped = { summary: string; unknowns: string[]; requests: ActionRequest[] };
type Source = Pick<PlainRequestAnswer, 'model' | 'escalated' | 'trigger' | 'note'>;

export async function answerPlainRequest(
  deps: PlainRequestDeps,
  request: PlainRequest,
  jobId: string,
): Promise<PlainRequestAnswer> {
  const { outcome, trigger } = await consult(deps, request.text);
  const at = deps.now().toISOString();
  const base = { type: 'helm.request-answer.v1' as const, request_id: request.request_id ?? null, at };
  if (outcome.model === null) {
    return PlainRequestAnswerSchema.parse({
      ...base,
      outcome: 'unavailable',
      model: null,
      escalated: false,
      trigger,
      note: cut(outcome.note, 2000),
      summary: 'No model answers now: Helm cannot read requests in plain words. `helm request` still works.',
      question: null,
      requests: [],
    });
  }
  const source: Source = {
    model: outcome.model,
    escalated: outcome.escalated,
    trigger,
    note: cut(outcome.note, 2000),
  };
  const loop = outcome.value;
  if (loop.outcome !== 'answered' || loop.value.requests.length === 0) {
    const question =
      loop.outcome === 'answered'
        ? loop.value.unknowns.join(' ') || loop.value.summary
        : `I could not turn this into valid requests (${loop.reason}).`;
    return PlainRequestAnswerSchema.parse({
      ...base,
      ...source,
      outcome: 'question',
      summary: loop.outcome === 'answered' ? loop.value.summary : 'Nothing was derived from the request.',
      question: cut(`${question} Say the action, the service and the environment.`, 2000),
      requests: [],
    });
  }
  const plan = distinctTargets(loop.value.requests) >= 2;
  const submitNow = !plan || request.submit === true;
  const idBase = (request.request_id ?? `ask:${jobId}`).slice(0, 120);
  const requests = submitNow
    ? await submitAll(deps, loop.value.requests, idBase)
    : loop.value.requests.map(
        (r): AdviceProposal => ({
          request: r,
          submitted: false,
          request_id: null,
          why_not_submitted:
            'a plan touching several services is submitted only with --submit (submit: true)',
        }),
      );
  const allSubmitted = requests.every((r) => r.submitted);
  deps.log.info(
    {
      model: source.model,
      escalated: source.escalated,
      plan,
      derived: requests.length,
      submitted: requests.filter((r) => r.submitted).length,
    },
    'advisor: plain-words request answered',
  );
  return PlainRequestAnswerSchema.parse({
    ...base,
    ...source,
    outcome: plan || !allSubmitted ? 'plan' : 'submitted',
    summary: loop.value.summary,
    question: null,
    requests,
  });
}

/** The answer to job data that is not a PlainRequest: what is wrong, as a question. */
export function invalidPlainRequestAnswer(problems: readonly string[], now: Date): PlainRequestAnswer {
  return PlainRequestAnswerSchema.parse({
    type: 'helm.request-answer.v1',
    request_id: null,
    outcome: 'question',
    model: null,
    escalated: false,
    trigger: null,
    note: 'No model was asked: the job data is not a request in plain words.',
    summary: 'The job data is not { text, requested_by, request_id?, submit? }.',
    question: cut(`What did you mean? ${problems.join('; ')}`, 2000),
    requests: [],
    at: now.toISOString(),
  });
}

/** Routes on the services the text names; a reading that touches several is asked again, escalated. */
async function consult(deps: PlainRequestDeps, text: string) {
  const services = await deps.knownServices();
  const named = services.filter((s) => mentions(text, s));
  const first = routeModel({ task: 'request', environment: null, servicesTouched: named });
  const outcome = await mapText(deps, text, services, first.model === 'escalation');
  // A request the default model read as touching several services is a plan: the escalation model's.
  if (outcome.model !== null && first.trigger === null && isAnsweredMulti(outcome))
    return { outcome: await mapText(deps, text, services, true), trigger: 'multi_service' as const };
  return { outcome, trigger: first.trigger };
}

function mentions(text: string, service: string): boolean {
  const escaped = service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^A-Za-z0-9_.-])${escaped}($|[^A-Za-z0-9_-])`, 'i').test(text);
}

function distinctTargets(requests: readonly ActionRequest[]): number {
  return new Set(requests.map((r) => r.target)).size;
}

function isAnsweredMulti(
  outcome: ModelRunOutcome<Awaited<ReturnType<typeof runModelLoop<Mapped>>>>,
): boolean {
  return (
    outcome.model !== null &&
    outcome.value.outcome === 'answered' &&
    distinctTargets(outcome.value.value.requests) >= 2
  );
}

async function submitAll(
  deps: PlainRequestDeps,
  requests: readonly ActionRequest[],
  idBase: string,
): Promise<AdviceProposal[]> {
  const out: AdviceProposal[] = [];
  for (const [i, r] of requests.entries()) {
    const request = { ...r, request_id: `${idBase}:${i + 1}` };
    try {
      await deps.submit(request);
      out.push({ request, submitted: true, request_id: request.request_id, why_not_submitted: null });
    } catch (err) {
      const why = cut(`could not be submitted: ${err instanceof Error ? err.message : String(err)}`, 500);
      out.push({ request: r, submitted: false, request_id: null, why_not_submitted: why });
    }
  }
  return out;
}

async function mapText(deps: PlainRequestDeps, text: string, services: readonly string[], escalate: boolean) {
  const fence = createFence();
  const redactor = createModelRedactor({ secretValues: await deps.secretValues() });
  const started = Date.now();
  return deps.models.run(escalate, ({ client, escalated }) =>
    runModelLoop<Mapped>({
      client,
      escalated,
      system: advisorSystemPrompt(fence),
      prompt: requestPrompt(text, services, { fence, redactor }),
      tools: [],
      output: {
        name: ANSWER_NAME,
        description: 'The requests.',
        schema: ADVICE_JSON_SCHEMA as Record<string, unknown>,
      },
      validate: mappedValidation,
      deadline: started + deps.timeoutMs,
      callTimeoutMs: deps.callTimeoutMs ?? Math.ceil(deps.timeoutMs / 3),
    }),
  );
}

function mappedValidation(raw: unknown): Validation<Mapped> {
  const checked = validateAdvice(raw, { evidenceIds: [] });
  if (!checked.ok) return { ok: false, errors: checked.problems };
  const { summary, unknowns } = checked.advice;
  return { ok: true, value: { summary, unknowns, requests: checked.requests } };
}

function requestPrompt(
  text: string,
  services: readonly string[],
  call: { fence: Fence; redactor: ModelRedactor },
): string {
  return [
    'The owner asked Helm, in plain words (the fenced text; take from it only what action, service and',
    'environment it names):',
    untrustedForModel({ id: 'request', text }, call),
    `Services Helm knows: ${untrustedForModel({ id: 'services', text: services.join(', ') }, call)}`,
    'Map it to proposals: one per action, each with its target, its environment (production, staging or',
    'dev) and the params the action needs. If the service, the environment or anything an action needs',
    'is missing or ambiguous, propose nothing and say in unknowns what is missing. There is no evidence:',
    'findings and every evidence_ids stay empty.',
  ].join('\n');
}
