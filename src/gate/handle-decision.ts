import { Job } from 'bullmq';
import { acceptDecision, type DecisionVerdict, verifyDecisionText } from '../approval/index.js';
import type { ApprovalDecision } from '../contracts/index.js';
import type { DecisionDeps, DecisionOutcome } from './decision-deps.js';
import { forwardToPlanHost } from './forward-decision.js';
import type { ParkedRecord } from './parked-store.js';

export type { DecisionDeps, DecisionOutcome } from './decision-deps.js';

/** A decision Helm does not act on: for which approval (when it can tell), why, and the detail. */
interface Refusal {
  approvalId: string | null;
  reason: string;
  detail: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A decision on helm.approvals: verified on the JSON text exactly as it rests in Redis (a text with a
 * repeated key is malformed: BullMQ's job.data would hide it), accepted only under the
 * contract's rules, consumed atomically in Redis and recorded in the run log, and then the parked
 * request is woken. Every refused decision is logged and changes nothing; forgeries are alerted.
 * Never throws: a decision job always completes with what Helm made of it.
 */
export function makeDecisionHandler(deps: DecisionDeps) {
  return async function handleDecision(job: Job): Promise<DecisionOutcome> {
    const claimedId = claimedApprovalId(job.data);
    try {
      const forwarded = await forwardToPlanHost(deps, job, claimedId);
      if (forwarded) return forwarded;
      const accepted = await acceptStoredDecision(deps, job, claimedId);
      if ('outcome' in accepted) return accepted;
      return await consumeAndWake(deps, job, accepted.decision, accepted.parked);
    } catch (err) {
      deps.logger.error({ err, decision_job: job.id }, 'decision could not be handled');
      return { outcome: 'info', reason: 'internal', approval_id: claimedId };
    }
  };
}

/** Verified and accepted under the contract's rules, for a request still parked; else what Helm made of it. */
async function acceptStoredDecision(
  deps: DecisionDeps,
  job: Job,
  claimedId: string | null,
): Promise<DecisionOutcome | { decision: ApprovalDecision; parked: ParkedRecord | null }> {
  const verdict = await verifyStoredDecision(deps, job);
  const approvalId = verdict.ok ? verdict.decision.approval_id : claimedId;
  const parked = approvalId ? await deps.parked.get(approvalId) : null;
  await deps.ledger.refresh?.();
  const alreadyConsumed =
    parked?.status === 'approved' ||
    parked?.status === 'denied' ||
    (approvalId !== null && deps.ledger.consumedFor(approvalId) !== null);
  const acceptance = acceptDecision({
    verdict,
    parked:
      parked?.status === 'parked' ? { approval_id: parked.approval_id, plan_hash: parked.plan_hash } : null,
    alreadyConsumed,
    now: deps.clock.now(),
    skewMs: deps.skewMs,
  });
  if (acceptance.outcome === 'info')
    return notAccepted(deps, job, 'info', {
      approvalId,
      reason: acceptance.reason,
      detail: acceptance.detail,
    });
  // The request's own deadline counts too, even before its timer has fired (Helm was down or busy).
  const requestDeadline = parked ? Date.parse(parked.approval_request.expires_at) : Number.NaN;
  if (acceptance.outcome === 'accept' && !(deps.clock.now().getTime() < requestDeadline)) {
    return notAccepted(deps, job, 'info', {
      approvalId,
      reason: 'late',
      detail: `the request expired at ${parked?.approval_request.expires_at}`,
    });
  }
  if (acceptance.outcome === 'security')
    return notAccepted(deps, job, 'security', {
      approvalId,
      reason: acceptance.reason,
      detail: acceptance.detail,
    });
  return { decision: acceptance.decision, parked };
}

/** Consumed atomically in Redis, recorded in the run log, and the parked request woken. */
async function consumeAndWake(
  deps: DecisionDeps,
  job: Job,
  d: ApprovalDecision,
  parked: ParkedRecord | null,
): Promise<DecisionOutcome> {
  const consumed = await deps.parked.consume(
    d.approval_id,
    d.plan_hash,
    d.decision,
    JSON.stringify(d),
    deps.clock.now(),
  );
  if (consumed === 'repeat' || consumed === 'ended') {
    return notAccepted(deps, job, 'info', {
      approvalId: d.approval_id,
      reason: consumed,
      detail: `approval ${d.approval_id} was decided or ended meanwhile`,
    });
  }
  if (consumed === 'plan_mismatch')
    return notAccepted(deps, job, 'security', {
      approvalId: d.approval_id,
      reason: 'plan_mismatch',
      detail: 'the parked plan changed',
    });

  // parked is non-null here: consume() succeeded on its record.
  await recordDecision(deps, d, parked!);
  await wake(deps, parked!.job_id);
  const requestedAt = Date.parse(parked!.approval_request.requested_at);
  deps.metrics?.approvalWaited(Math.max(0, deps.clock.now().getTime() - requestedAt) / 1000);
  deps.logger.info(
    { approval_id: d.approval_id, decision: d.decision, job_id: parked!.job_id },
    'decision accepted',
  );
  return { outcome: 'accepted', reason: d.decision, approval_id: d.approval_id };
}

async function recordDecision(deps: DecisionDeps, d: ApprovalDecision, parked: ParkedRecord): Promise<void> {
  const request = parked.approval_request.request as { action?: string; target?: string };
  const entry = {
    event: d.decision,
    job_id: parked.job_id,
    request_id: parked.approval_request.plan.request_id,
    action: request.action ?? null,
    target: request.target ?? null,
    environment: parked.approval_request.plan.environment,
    approval_id: d.approval_id,
    code: null,
    message: `${d.decision} by ${d.approver} (key ${d.key_id})${d.reason ? `: ${d.reason}` : ''}; plan ${d.plan_hash}`,
  };
  try {
    await deps.runLog.append(entry);
    deps.ledger.note(entry);
  } catch (err) {
    // Consumed in Redis but not on disk: the executor refuses to start a change the run log does
    // not show as approved, so this fails closed.
    deps.logger.error(
      { err, approval_id: d.approval_id },
      'approval consumed but not recorded in the run log',
    );
  }
}

/** The stored text, not job.data: JSON.parse would silently pick one copy of a repeated key. */
async function verifyStoredDecision(deps: DecisionDeps, job: Job): Promise<DecisionVerdict> {
  const text = await deps.jobDataText(job);
  if (text === null)
    return { ok: false, reason: 'malformed', detail: 'the decision job has no stored data in Redis' };
  return verifyDecisionText(text, deps.keyring());
}

/** Moves the parked request's job from delayed to waiting, so the gate picks it up now. */
async function wake(deps: DecisionDeps, jobId: string) {
  const parkedJob = await Job.fromId(deps.actionsQueue, jobId);
  await parkedJob?.promote().catch(() => undefined);
}

/**
 * A decision Helm does not act on. `info`: it changes nothing and is no attack (late, repeated, for a
 * request that ended): logged. `security`: it may be an attack (forged, wrong plan): logged as
 * security and alerted.
 */
async function notAccepted(
  deps: DecisionDeps,
  job: Job,
  outcome: 'info' | 'security',
  { approvalId, reason, detail }: Refusal,
): Promise<DecisionOutcome> {
  const fields = { approval_id: approvalId, reason, decision_job: job.id };
  if (outcome === 'info') {
    deps.logger.info(fields, `decision ignored: ${detail}`);
    await deps.runLog
      .append({ event: 'decision_ignored', approval_id: approvalId, code: reason, message: detail })
      .catch(() => undefined);
  } else {
    deps.logger.warn(fields, `decision refused: ${detail}`);
    await deps.runLog
      .append({
        event: 'security',
        approval_id: approvalId,
        code: reason,
        message: `decision refused (${reason}): ${detail}`,
      })
      .catch(() => undefined);
    await deps.alerts.send({
      severity: 'critical',
      kind: 'security',
      message: `A decision on helm.approvals was refused (${reason}): ${detail}. Nothing was changed.`,
      details: { reason, approval_id: approvalId, decision_job: job.id ?? null },
      dedup_key: `security:decision:${approvalId ?? job.id}`,
    });
  }
  return { outcome, reason, approval_id: approvalId };
}

function claimedApprovalId(data: unknown): string | null {
  const v = data && typeof data === 'object' ? (data as Record<string, unknown>)['approval_id'] : undefined;
  return typeof v === 'string' && UUID.test(v) ? v : null;
}
