import type { Job } from 'bullmq';
import type { DecisionDeps, DecisionOutcome, ForwardedDecision } from './decision-deps.js';

export type { ForwardedDecision } from './decision-deps.js';

/**
 * A decision for a plan on another host goes to that host's gate (contract 1.5, decision 96). The
 * consumption must be recorded in the run log of the host that executes the plan, since its executor
 * checks its own ledger; and an approval stays single-use because the parked request is consumed by
 * one atomic Redis script, whichever host runs it. The decision travels as its stored JSON text,
 * unparsed, so the plan's host judges exactly the text Warden put on the bus (a repeated key
 * included). A decision whose request is not parked any more, or is this host's, is handled here.
 */
export async function forwardToPlanHost(
  deps: DecisionDeps,
  job: Job,
  claimedId: string | null,
): Promise<DecisionOutcome | null> {
  if (!deps.forward || claimedId === null) return null;
  const parked = await deps.parked.get(claimedId);
  const planHost = parked?.approval_request.plan.host;
  if (parked?.status !== 'parked' || planHost === undefined || planHost === deps.forward.host) return null;
  const text = await deps.jobDataText(job);
  if (text === null) return null;
  await deps.forward.to(planHost, { v: 1, text, from_job: String(job.id) }, `fwd-${job.id}`);
  deps.logger.info(
    { approval_id: claimedId, decision_job: job.id, plan_host: planHost },
    `decision forwarded to host ${planHost}, where its plan runs`,
  );
  return { outcome: 'info', reason: `forwarded to host ${planHost}`, approval_id: claimedId };
}

/**
 * The handler of this host's forwarded decisions: the same checks as on helm.approvals, on the text
 * the forwarding host read (never forwarded again).
 */
export function forwardedDecisionHandler(
  deps: DecisionDeps,
  handle: (deps: DecisionDeps) => (job: Job) => Promise<DecisionOutcome>,
): (job: Job) => Promise<DecisionOutcome> {
  return async (job) => {
    const data = job.data as Partial<ForwardedDecision> | null;
    const text = typeof data?.text === 'string' ? data.text : null;
    let parsed: unknown = null;
    try {
      parsed = text === null ? null : JSON.parse(text);
    } catch {
      parsed = null;
    }
    // The original decision's data as the checks see it; the job's own id and queue stay for the logs.
    const view = Object.create(job, { data: { value: parsed } }) as Job;
    const { forward: _, ...local } = deps;
    return handle({ ...local, jobDataText: async () => text })(view);
  };
}
