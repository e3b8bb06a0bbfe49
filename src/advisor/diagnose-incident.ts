// Diagnosis of an incident (issue 10), after its alert went out and never in its way: evidence first
// (gathered by the caller's port), the route (default model, or the escalation model during a
// production outage), one bounded model loop through the fallback chain, the answer validated against
// the evidence and the contract, then a `diagnosis` alert. Of the proposals, only what
// decideAdvisorSubmission allows, for the incident's own target, is submitted (as an ordinary request,
// requested_by helm-advisor, so gated); the rest are listed. One diagnosis per incident dedup_key until
// the incident ends (recovered/resolved); an answer is cached by sha256(model, prompt version,
// evidence hash). No model answering gives Helm's deterministic summary, saying so.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import {
  type ActionRequest,
  type AdviceProposal,
  type Alert,
  DIAGNOSED_INCIDENT_KINDS,
} from '../contracts/index.js';
import { ADVICE_JSON_SCHEMA, type Advice, validateAdvice } from './advice-schema.js';
import { ANSWER_NAME, advisorSystemPrompt, diagnosisPrompt, PROMPT_VERSION } from './advisor-prompt.js';
import {
  decideAdvisorSubmission,
  type SubmitContext,
  type SubmittableKind,
} from './advisor-submit-policy.js';
import { type DiagnosedIncident, type DiagnosisSource, diagnosisAlert } from './diagnosis-alert.js';
import { deterministicAdvice } from './deterministic-advice.js';
import { type EvidenceBundle, evidenceIds } from './evidence-bundle.js';
import { evidenceForModel } from './evidence-for-model.js';
import { createFence } from './fence-untrusted.js';
import { runModelLoop, type ReadOnlyTool, type Validation } from './model-loop.js';
import { routeModel } from './model-router.js';
import type { AdvisorLog, AlertToSend, ModelRunner } from './model-runner.js';
import { createModelRedactor } from './redact-for-model.js';

export interface GatheredForDiagnosis {
  bundle: EvidenceBundle;
  /** Env values to mask (never in a prompt). */
  secretsToMask: readonly string[];
  publicValues: readonly string[];
  gaps: readonly string[];
}

export interface DiagnoseDeps {
  gather(req: { target: string; environment: string; incidentKind: string }): Promise<GatheredForDiagnosis>;
  models: ModelRunner;
  modelNames: { default: string; escalation: string };
  /** The owner's secret-store values: masked in every prompt whatever they look like. */
  secretValues(): Promise<Iterable<string>>;
  /** What the submit policy needs to know about the target (recorded releases, replicas). */
  submitContext(target: string): Promise<Omit<SubmitContext, 'allowed'>>;
  /** HELM_ADVISOR_SUBMIT. */
  allowed: ReadonlySet<SubmittableKind>;
  /** Hands a request to intake (helm.actions), like any producer. */
  submit(request: ActionRequest): Promise<unknown>;
  /** Sends to sentinel.alerts. */
  send(alert: AlertToSend): Promise<unknown>;
  log: AdvisorLog;
  /** The whole diagnosis's wall-clock bound. */
  timeoutMs: number;
  /** One model call's bound. @defaultValue timeoutMs / 3 */
  callTimeoutMs?: number;
  /** @defaultValue 64 */
  cacheSize?: number;
}

export interface Diagnosis {
  alert: AlertToSend;
  cached: boolean;
}

export interface IncidentDiagnoser {
  /** Fire and forget: returns at once, never throws; failures are logged. */
  onAlert(alert: Alert): void;
  /** The diagnosis of one alert (null: not an incident to diagnose, or already diagnosed). */
  diagnose(alert: Alert): Promise<Diagnosis | null>;
  /** Resolves when every diagnosis started so far has ended. */
  idle(): Promise<void>;
}

type Answer = { advice: Advice; requests: ActionRequest[] };
interface Cached extends Answer {
  source: DiagnosisSource;
}

const ENDS_INCIDENT = new Set(['recovered', 'resolved']);

export function makeIncidentDiagnoser(deps: DiagnoseDeps): IncidentDiagnoser {
  const diagnosed = new Set<string>();
  const cache = new Map<string, Cached>();
  const pending = new Set<Promise<unknown>>();

  const diagnose = async (alert: Alert): Promise<Diagnosis | null> => {
    if (ENDS_INCIDENT.has(alert.kind)) {
      diagnosed.delete(alert.dedup_key);
      return null;
    }
    const incident = incidentOf(alert);
    if (!incident || diagnosed.has(incident.dedup_key)) return null;
    diagnosed.add(incident.dedup_key);
    bound(diagnosed, 1000);
    const gathered = await deps.gather({
      target: incident.target,
      environment: incident.environment,
      incidentKind: incident.kind,
    });
    const route = routeModel({
      task: 'diagnosis',
      environment: incident.environment,
      incidentKind: incident.kind,
      outageActive: outageActive(gathered.bundle),
    });
    const escalate = route.model === 'escalation';
    const key = cacheKey(escalate ? deps.modelNames.escalation : deps.modelNames.default, gathered.bundle);
    const hit = cache.get(key);
    const answer = hit ?? (await askModels(deps, incident, gathered, escalate, route.trigger));
    if (!hit && answer.source.model !== null) {
      cache.set(key, answer);
      bound(cache, deps.cacheSize ?? 64);
    }
    const proposals = await proposalsOf(deps, incident, answer.requests);
    const built = diagnosisAlert(incident, answer.source, answer.advice, proposals);
    await deps.send(built);
    deps.log.info(
      {
        incident: incident.dedup_key,
        model: answer.source.model,
        escalated: answer.source.escalated,
        cached: hit !== undefined,
        proposals: proposals.length,
        submitted: proposals.filter((p) => p.submitted).length,
      },
      'advisor: diagnosis sent',
    );
    return { alert: built, cached: hit !== undefined };
  };

  return {
    diagnose,
    onAlert(alert) {
      const run = diagnose(alert).catch((err: unknown) =>
        deps.log.error(
          { err: err instanceof Error ? err.message : String(err), dedup_key: alert.dedup_key },
          'advisor: diagnosis failed',
        ),
      );
      pending.add(run);
      void run.finally(() => pending.delete(run));
    },
    async idle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

function incidentOf(alert: Alert): DiagnosedIncident | null {
  const kind = DIAGNOSED_INCIDENT_KINDS.find((k) => k === alert.kind);
  if (!kind || !alert.target || !alert.environment) return null;
  return {
    alert_id: alert.alert_id,
    dedup_key: alert.dedup_key,
    kind,
    target: alert.target,
    environment: alert.environment,
  };
}

/** Not serving now: not running, restarting, unhealthy, or Helm cannot see it (counts as down). */
export function outageActive(bundle: EvidenceBundle): boolean {
  const i = bundle.inspect;
  if (!i) return true;
  return !i.running || i.status === 'restarting' || i.health?.status === 'unhealthy';
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

export function cacheKey(model: string, bundle: EvidenceBundle): string {
  return sha256(canonicalize([model, PROMPT_VERSION, sha256(canonicalize(bundle) ?? '')]) ?? '');
}

function bound(collection: Set<string> | Map<string, unknown>, max: number): void {
  for (const oldest of collection.keys()) {
    if (collection.size <= max) return;
    collection.delete(oldest);
  }
}

async function askModels(
  deps: DiagnoseDeps,
  incident: DiagnosedIncident,
  gathered: GatheredForDiagnosis,
  escalate: boolean,
  trigger: DiagnosisSource['trigger'],
): Promise<Cached> {
  const fence = createFence();
  const redactor = createModelRedactor({
    envValues: gathered.secretsToMask,
    secretValues: await deps.secretValues(),
    publicValues: gathered.publicValues,
  });
  const evidence = evidenceForModel(gathered.bundle, { fence, redactor });
  const ids = evidenceIds(gathered.bundle);
  const started = Date.now();
  const outcome = await deps.models.run(escalate, ({ client, escalated }) =>
    runModelLoop<Answer>({
      client,
      escalated,
      system: advisorSystemPrompt(fence),
      prompt: diagnosisPrompt(incident, evidence),
      tools: [evidenceTool(evidence)],
      output: { name: ANSWER_NAME, description: 'Your diagnosis.', schema: ADVICE_SCHEMA },
      validate: (raw) => adviceValidation(raw, ids, incident.environment),
      deadline: started + deps.timeoutMs,
      callTimeoutMs: deps.callTimeoutMs ?? Math.ceil(deps.timeoutMs / 3),
    }),
  );
  if (outcome.model === null) {
    return {
      advice: deterministicAdvice(gathered.bundle, 'No model answered'),
      requests: [],
      source: { model: null, escalated: false, trigger, note: outcome.note },
    };
  }
  const source = { model: outcome.model, escalated: outcome.escalated, trigger, note: outcome.note };
  const loop = outcome.value;
  if (loop.outcome === 'answered') return { ...loop.value, source };
  return {
    advice: deterministicAdvice(gathered.bundle, `${outcome.model} was inconclusive (${loop.reason})`),
    requests: [],
    source: { ...source, note: `${outcome.note} Its answer was inconclusive (${loop.reason}).` },
  };
}

const ADVICE_SCHEMA = ADVICE_JSON_SCHEMA as Record<string, unknown>;

function adviceValidation(
  raw: unknown,
  ids: readonly string[],
  environment: DiagnosedIncident['environment'],
): Validation<Answer> {
  const checked = validateAdvice(raw, { evidenceIds: ids, environment });
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

async function proposalsOf(
  deps: DiagnoseDeps,
  incident: DiagnosedIncident,
  requests: readonly ActionRequest[],
): Promise<AdviceProposal[]> {
  if (requests.length === 0) return [];
  const context = await deps.submitContext(incident.target).catch(() => ({
    recordedReleaseIds: [],
    previousReleaseId: null,
    currentReplicas: null,
  }));
  const out: AdviceProposal[] = [];
  for (const [i, request] of requests.entries()) {
    const decision =
      request.target === incident.target
        ? decideAdvisorSubmission(request, { ...context, allowed: deps.allowed })
        : { decision: 'propose' as const, reason: "it names another target than the incident's", request };
    if (decision.decision !== 'submit') {
      out.push({ request, submitted: false, request_id: null, why_not_submitted: decision.reason });
      continue;
    }
    const request_id = `helm-advisor:${incident.alert_id}:${i + 1}`;
    try {
      await deps.submit({ ...decision.request, request_id });
      out.push({
        request: { ...decision.request, request_id },
        submitted: true,
        request_id,
        why_not_submitted: null,
      });
    } catch (err) {
      const why = `could not be submitted: ${err instanceof Error ? err.message : String(err)}`;
      out.push({ request, submitted: false, request_id: null, why_not_submitted: why.slice(0, 500) });
    }
  }
  return out;
}
