import type { ActionOutcome } from '../actions/action-types.js';
import type { ActionRequest, Plan } from '../contracts/index.js';
import { macInternalJob, verifyInternalJob } from './internal-job-mac.js';

/**
 * A job on helm.exec: what the gate hands an executor. It carries the plan the gate built and, for
 * an approved change, the signed decision exactly as received, so the executor can check everything
 * again before its first change (defense in depth). It is MACed under Helm's key.
 */
export interface ExecJobData {
  v: 1;
  /** The helm.actions job of the request. */
  parent_job_id: string;
  request: ActionRequest;
  plan: Plan;
  plan_hash: string;
  /** The consumed ApprovalDecision as received (JSON text); null when the policy needed none. */
  decision_json: string | null;
}

export type SignedExecJob = ExecJobData & { mac: string };

/** What an executor returns to the request's job. */
export type ExecResult = ActionOutcome & { release?: Record<string, unknown> };

export { EXEC_QUEUE, execQueueName } from '../bus/queue-names.js';

export function signExecJob(data: ExecJobData, key: Buffer): SignedExecJob {
  return { ...data, mac: macInternalJob(data as unknown as Record<string, unknown>, key) };
}

export function isGenuineExecJob(data: unknown, key: Buffer): data is SignedExecJob {
  return verifyInternalJob(data, key) && (data as { v?: unknown }).v === 1;
}
