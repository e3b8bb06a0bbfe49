// What the advisor may submit by itself, as a pure decision. Submitting means only handing an ordinary
// ActionRequest to intake: it still goes through the gate, and in production it parks for Warden like
// any request. Even so the advisor submits only the five kinds that cannot lose anything:
//   restart; rollback to a release Helm recorded; scale up; health_check; logs
// and of those only the ones HELM_ADVISOR_SUBMIT allows (default: restart,rollback). Everything else
// (deploy of any image, stop, remove, set_env, prune, scale down or to the same count, a rollback to a
// release Helm has no record of) is only proposed: listed in the alert with the ready ActionRequest
// for the owner to submit. Input that is not a valid ActionRequest is refused outright.
import { type ActionRequest, ActionRequestSchema } from '../contracts/index.js';

export const SUBMITTABLE_KINDS = ['restart', 'rollback', 'scale_up', 'health_check', 'logs'] as const;
export type SubmittableKind = (typeof SUBMITTABLE_KINDS)[number];

/** HELM_ADVISOR_SUBMIT's default; config parses the variable (ADVISOR_SUBMITTABLE there is this list). */
export const DEFAULT_ADVISOR_SUBMIT: readonly SubmittableKind[] = ['restart', 'rollback'];

export interface SubmitContext {
  allowed: ReadonlySet<SubmittableKind>;
  /** The release ids Helm recorded for the target. */
  recordedReleaseIds: readonly string[];
  /** The release a rollback without `to` goes back to, when Helm has one recorded. */
  previousReleaseId: string | null;
  /** Replicas running now; null when Helm could not read them. */
  currentReplicas: number | null;
}

export type SubmitDecision =
  | { decision: 'submit'; kind: SubmittableKind; request: ActionRequest }
  | { decision: 'propose'; reason: string; request: ActionRequest }
  | { decision: 'refuse'; reason: string };

export function decideAdvisorSubmission(proposal: unknown, context: SubmitContext): SubmitDecision {
  const parsed = ActionRequestSchema.safeParse(proposal);
  if (!parsed.success) return { decision: 'refuse', reason: 'not a valid ActionRequest' };
  const request = parsed.data;
  const kind = submittableKind(request, context);
  if (typeof kind !== 'string') {
    return { decision: 'propose', reason: kind.reason, request };
  }
  if (!context.allowed.has(kind)) {
    return { decision: 'propose', reason: `HELM_ADVISOR_SUBMIT does not allow ${kind}`, request };
  }
  return { decision: 'submit', kind, request };
}

/** The kind of a request the advisor could submit, or why it can only be proposed. */
function submittableKind(
  request: ActionRequest,
  context: SubmitContext,
): SubmittableKind | { reason: string } {
  switch (request.action) {
    case 'restart':
    case 'health_check':
    case 'logs':
      return request.action;
    case 'rollback': {
      const to = request.params?.to ?? context.previousReleaseId;
      if (to === null) return { reason: 'Helm has no previous release recorded to roll back to' };
      return context.recordedReleaseIds.includes(to)
        ? 'rollback'
        : { reason: 'the rollback names a release Helm has no record of' };
    }
    case 'scale':
      if (context.currentReplicas === null) return { reason: 'Helm could not read the replicas running now' };
      return request.params.replicas > context.currentReplicas
        ? 'scale_up'
        : { reason: 'only a scale up is submitted by the advisor' };
    default:
      return { reason: `the advisor only proposes ${request.action}` };
  }
}
