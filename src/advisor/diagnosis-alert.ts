// The `diagnosis` alert (contract 1.2, decision 76) as data: the incident it follows, which model
// answered and why that one, the advice, and each proposal with its ready ActionRequest and whether
// Helm submitted it. Pure; the runner (diagnose-incident.ts) sends it.
import { type AdviceProposal, type DiagnosisDetails, DiagnosisDetailsSchema } from '../contracts/index.js';
import type { Advice } from './advice-schema.js';
import { cut } from './deterministic-advice.js';
import type { EscalationTrigger } from './model-router.js';
import type { AlertToSend } from './model-runner.js';

export interface DiagnosedIncident {
  alert_id: string;
  dedup_key: string;
  kind: DiagnosisDetails['incident']['kind'];
  target: string;
  environment: NonNullable<AlertToSend['environment']>;
  /** The container the incident's alert names (the monitor's details.container), when it names one. */
  container?: string | null;
}

export interface DiagnosisSource {
  model: string | null;
  escalated: boolean;
  trigger: EscalationTrigger | null;
  note: string;
}

const MAX_MESSAGE = 2000;

export function diagnosisAlert(
  incident: DiagnosedIncident,
  source: DiagnosisSource,
  advice: Advice,
  proposals: readonly AdviceProposal[],
): AlertToSend {
  const details: DiagnosisDetails = {
    type: 'helm.diagnosis.v1',
    incident: { alert_id: incident.alert_id, dedup_key: incident.dedup_key, kind: incident.kind },
    model: source.model,
    escalated: source.escalated,
    trigger: source.trigger,
    note: cut(source.note, 2000),
    summary: advice.summary,
    findings: advice.findings,
    possible_causes: advice.possible_causes,
    unknowns: advice.unknowns,
    proposals: [...proposals],
  };
  // What Helm emits holds to the contract; the advice schema's bounds are the contract's, so a
  // failure here is Helm's own bug and must not go out.
  const checked = DiagnosisDetailsSchema.parse(details);
  const submitted = proposals.filter((p) => p.submitted).length;
  const by = source.model === null ? "Helm's evidence summary (no model answered)" : source.model;
  const tail =
    proposals.length === 0
      ? ''
      : ` Proposals: ${proposals.length}, submitted by Helm: ${submitted} (each gated like any request).`;
  return {
    severity: proposals.length > 0 ? 'warning' : 'info',
    kind: 'diagnosis',
    target: incident.target,
    environment: incident.environment,
    message: cut(
      `Diagnosis of ${incident.kind} on ${incident.target} by ${by}: ${advice.summary}${tail}`,
      MAX_MESSAGE,
    ),
    details: checked,
    dedup_key: incident.dedup_key,
  };
}
