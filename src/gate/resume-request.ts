import type { ActionResult } from '../contracts/index.js';
import { publishStatus } from '../results/publish-status.js';
import { resultWithStatus, type ResultSubject } from '../results/result-builder.js';
import { finishFailed } from './finish-request.js';
import type { GateDeps, HeldRequest } from './gate-deps.js';
import { collectExecResult, handToExecutor } from './hand-to-executor.js';
import { sleepUntil } from './park-for-warden.js';
import type { ParkedRecord } from './parked-store.js';
import type { RequestState } from './request-state.js';

/**
 * A request's job back in the gate's hands (its request state says where it stood): one that was
 * executing collects its executor's result; one that was parked goes on as Warden decided (approved:
 * to the executor; denied or cancelled: ends), sleeps again until its deadline, or expires.
 */
export async function resumeRequest(
  deps: GateDeps,
  held: HeldRequest,
  state: RequestState,
): Promise<ActionResult> {
  const withId = { ...held, subject: { ...held.subject, approval_id: state.approval_id } };
  if (state.stage === 'executing') return collectExecResult(deps, withId);
  const record = state.approval_id ? await deps.parked.get(state.approval_id) : null;
  switch (record?.status) {
    case 'approved':
      return approved(deps, withId, record);
    case 'denied': {
      const decision = JSON.parse(record.decision_json ?? 'null') as {
        approver?: string;
        reason?: string;
      } | null;
      const why = `denied by ${decision?.approver ?? 'Warden'}${decision?.reason ? `: ${decision.reason}` : ''}; nothing was changed`;
      return finishFailed(deps, withId, 'denied', why);
    }
    case 'cancelled':
      return finishFailed(
        deps,
        withId,
        'cancelled',
        'cancelled by the owner while waiting for Warden; nothing was changed',
      );
    case 'parked': {
      if (deps.clock.now().getTime() < (state.deadline ?? 0))
        return sleepUntil(held.job, held.token, state.deadline ?? 0);
      if (!(await deps.parked.end(record.approval_id, 'expired', deps.clock.now())))
        return resumeRequest(deps, held, state);
      return expire(deps, withId, state);
    }
    default:
      return expire(deps, withId, state);
  }
}

/** Warden approved: announced (the decision is already in the run log), then to the executor. */
async function approved(deps: GateDeps, held: HeldRequest, record: ParkedRecord): Promise<ActionResult> {
  const decision = JSON.parse(record.decision_json ?? 'null') as { approver?: string } | null;
  await publishStatus(
    deps,
    held.job,
    resultWithStatus(
      held.subject,
      deps.clock.now(),
      'approved',
      `approved by ${decision?.approver ?? 'Warden'}; executing`,
    ),
    { event: null, final: false },
  );
  return handToExecutor(
    deps,
    held,
    { plan: record.approval_request.plan, hash: record.plan_hash },
    record.decision_json,
  );
}

/** No decision from Warden by the deadline: alerted, and the request ends with nothing changed. */
async function expire(
  deps: GateDeps,
  held: { job: HeldRequest['job']; subject: ResultSubject },
  state: RequestState,
): Promise<ActionResult> {
  const { subject } = held;
  const at = state.deadline ? new Date(state.deadline).toISOString() : 'its deadline';
  await deps.alerts.send({
    severity: 'warning',
    kind: 'approval_expired',
    ...(subject.target ? { target: subject.target } : {}),
    message: `${subject.action} ${subject.target} expired at ${at} without a decision from Warden; nothing was changed`,
    details: { job_id: subject.job_id, approval_id: state.approval_id },
    dedup_key: `approval_expired:${state.approval_id}`,
  });
  return finishFailed(
    deps,
    held,
    'approval_expired',
    `no decision from Warden by ${at}; nothing was changed`,
    'expired',
  );
}
