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
import {
  adviseOnEvidence,
  type EvidenceAdvice,
  type GatheredEvidence,
  type ModelAsk,
} from './advise-on-evidence.js';
import { diagnosisPrompt, PROMPT_VERSION } from './advisor-prompt.js';
import {
  decideAdvisorSubmission,
  type SubmitContext,
  type SubmittableKind,
} from './advisor-submit-policy.js';
import { type DiagnosedIncident, diagnosisAlert } from './diagnosis-alert.js';
import type { EvidenceBundle } from './evidence-bundle.js';
import { routeModel } from './model-router.js';
import { type AdvisorLog, type AlertToSend, backgroundWork } from './model-runner.js';

export type GatheredForDiagnosis = GatheredEvidence;

export interface DiagnoseDeps extends ModelAsk {
  /** `container`: the one the incident names; without it, the gatherer picks the target's own. */
  gather(req: {
    target: string;
    container?: string | null;
    environment: string;
    incidentKind: string;
  }): Promise<GatheredForDiagnosis>;
  modelNames: { default: string; escalation: string };
  /** What the submit policy needs to know about the target (recorded releases, replicas). */
  submitContext(target: string): Promise<Omit<SubmitContext, 'allowed'>>;
  /** HELM_ADVISOR_SUBMIT. */
  allowed: ReadonlySet<SubmittableKind>;
  /** Hands a request to intake (helm.actions), like any producer. */
  submit(request: ActionRequest): Promise<unknown>;
  /** Sends to sentinel.alerts. */
  send(alert: AlertToSend): Promise<unknown>;
  log: AdvisorLog;
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

type Cached = EvidenceAdvice;

const ENDS_INCIDENT = new Set(['recovered', 'resolved']);

export function makeIncidentDiagnoser(deps: DiagnoseDeps): IncidentDiagnoser {
  const diagnosed = new Set<string>();
  const cache = new Map<string, Cached>();
  const background = backgroundWork(deps.log);

  const diagnose = async (alert: Alert): Promise<Diagnosis | null> => {
    if (ENDS_INCIDENT.has(alert.kind)) {
      diagnosed.delete(alert.dedup_key);
      return null;
    }
    const incident = incidentOf(alert);
    if (!incident || diagnosed.has(incident.dedup_key)) return null;
    diagnosed.add(incident.dedup_key);
    bound(diagnosed, 1000);
    try {
      return await diagnoseOnce(incident);
    } catch (err) {
      // A diagnosis that failed (Docker, the bus) may be tried again on the incident's next alert.
      diagnosed.delete(incident.dedup_key);
      throw err;
    }
  };

  const diagnoseOnce = async (incident: DiagnosedIncident): Promise<Diagnosis> => {
    const gathered = await deps.gather({
      target: incident.target,
      container: incident.container,
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
    const asked = escalate ? deps.modelNames.escalation : deps.modelNames.default;
    const key = cacheKey(asked, gathered.bundle);
    const hit = cache.get(key);
    const answer =
      hit ??
      (await adviseOnEvidence(deps, gathered, {
        escalate,
        trigger: route.trigger,
        environment: incident.environment,
        prompt: (evidence) => diagnosisPrompt(incident, evidence),
        description: 'Your diagnosis.',
      }));
    // Only the asked model's own answer is kept: a fallback's or Helm's summary is asked again next time.
    if (!hit && answer.answered && answer.source.model === asked) {
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
    onAlert: (alert) => background.start('diagnosis', { dedup_key: alert.dedup_key }, () => diagnose(alert)),
    idle: () => background.idle(),
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
    container: typeof alert.details?.['container'] === 'string' ? alert.details['container'] : null,
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
