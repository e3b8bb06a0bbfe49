// Which model answers an advisor task. Pure. The default model (qwen3-coder on Ollama) answers everything
// except the three escalation triggers of the design card, which go to the escalation model (Claude):
//   1. zero_downtime_deploy: a deploy review for a production deploy whose strategy is start-first or
//      whose service carries ghost.zero-downtime=true;
//   2. active_outage: a diagnosis of a production incident (downtime, crash_loop, unhealthy,
//      deploy_failed, rolled_back) while the service is not serving;
//   3. multi_service: a plain-words request or plan touching two or more distinct services.
// Whether the escalation model is configured or answers is the caller's concern (it falls back to the
// default and says so); this file only says which one the task deserves.
//
// An environment Helm could not establish (missing, misspelt, not one of the contract's) counts as
// production here, as everywhere in Helm. For approvals "default is no" means waiting for Warden; for
// model choice it means giving a maybe-production outage or zero-downtime deploy the stronger reviewer.
// The cost of guessing wrong that way is one more expensive call; the other way, a weaker diagnosis of
// a production outage. The advisor never acts by itself either way, so the choice changes no guarantee.
import { DIAGNOSED_INCIDENT_KINDS, ENVIRONMENTS, type Environment } from '../contracts/index.js';

export const ADVISOR_TASKS = ['diagnosis', 'deploy_review', 'request', 'plan'] as const;
export type AdvisorTask = (typeof ADVISOR_TASKS)[number];

export type ModelChoice = 'default' | 'escalation';
export type EscalationTrigger = 'zero_downtime_deploy' | 'active_outage' | 'multi_service';

/** The label that marks a service as needing zero-downtime deploys. */
export const ZERO_DOWNTIME_LABEL = 'ghost.zero-downtime';

/** The incident kinds whose diagnosis escalates while a production service is not serving. */
export const OUTAGE_INCIDENT_KINDS = DIAGNOSED_INCIDENT_KINDS;

export interface RouteInput {
  task: AdvisorTask;
  /** As Helm resolved it; anything not in the contract's list counts as production. */
  environment: Environment | string | null | undefined;
  /** diagnosis: the alert kind of the incident. */
  incidentKind?: string | null;
  /** diagnosis: true while the service is not serving (no replica running and healthy). */
  outageActive?: boolean;
  /** request/plan: the services the text or plan touches (names; duplicates count once). */
  servicesTouched?: readonly string[];
  /** deploy_review: the service is labelled ghost.zero-downtime=true (see isZeroDowntimeLabelled). */
  zeroDowntime?: boolean;
  /** deploy_review: the deploy's strategy (absent means the contract's default, recreate). */
  strategy?: string | null;
}

export interface Route {
  model: ModelChoice;
  trigger: EscalationTrigger | null;
}

const DEFAULT_ROUTE: Route = { model: 'default', trigger: null };

export function countsAsProduction(environment: RouteInput['environment']): boolean {
  return !(ENVIRONMENTS as readonly unknown[]).includes(environment) || environment === 'production';
}

/**
 * True only for the exact value "true" (case and surrounding blanks ignored). A label that merely
 * looks like yes ("1", "yes") is not the owner's marking; the strategy still escalates a start-first
 * deploy on its own.
 */
export function isZeroDowntimeLabelled(labels: Readonly<Record<string, string>> | null | undefined): boolean {
  const value = labels?.[ZERO_DOWNTIME_LABEL];
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

export function routeModel(input: RouteInput): Route {
  const trigger = escalationTrigger(input);
  return trigger === null ? DEFAULT_ROUTE : { model: 'escalation', trigger };
}

function escalationTrigger(input: RouteInput): EscalationTrigger | null {
  switch (input.task) {
    case 'deploy_review':
      return countsAsProduction(input.environment) &&
        (input.strategy === 'start-first' || input.zeroDowntime === true)
        ? 'zero_downtime_deploy'
        : null;
    case 'diagnosis':
      return countsAsProduction(input.environment) &&
        input.outageActive === true &&
        (OUTAGE_INCIDENT_KINDS as readonly unknown[]).includes(input.incidentKind)
        ? 'active_outage'
        : null;
    case 'request':
    case 'plan':
      // A redesign is about how many services it touches, whatever their environment.
      return new Set(input.servicesTouched ?? []).size >= 2 ? 'multi_service' : null;
    default:
      return null;
  }
}
