import { type ActionResult, echoSubmitted, isPlainObject, REQUEST_ID_PATTERN } from '../contracts/index.js';

/**
 * Pure builders of the ActionResult shape (CONTRACT.md "ActionResult"). `logged` starts false: it
 * turns true only in finish-request.ts, once the run-log entry is on disk.
 */
export interface ResultSubject {
  action: string | null;
  target: string | null;
  environment: string | null;
  request_id: string | null;
  job_id: string;
  approval_id?: string | null;
}

/** For invalid input: echo what was submitted when it was a string (the contract's rule). */
export function subjectFromRawData(data: unknown, jobId: string): ResultSubject {
  const o = isPlainObject(data) ? data : {};
  const requestId = o['request_id'];
  return {
    action: echoSubmitted(o['action']),
    target: echoSubmitted(o['target']),
    environment: echoSubmitted(o['environment']),
    // An invalid id cannot be echoed as one: it names nothing on the bus.
    request_id: typeof requestId === 'string' && REQUEST_ID_PATTERN.test(requestId) ? requestId : null,
    job_id: jobId,
  };
}

export function failedResult(
  s: ResultSubject,
  at: Date,
  code: string,
  message: string,
  extra: Partial<ActionResult> = {},
) {
  return {
    ...base(s, at),
    status: 'failed',
    outcome: message,
    error: { code, message },
    ...extra,
  } as ActionResult;
}

export function resultWithStatus(
  s: ResultSubject,
  at: Date,
  status: 'pending_approval' | 'approved' | 'executed',
  outcome: string,
  extra: Partial<ActionResult> = {},
) {
  return { ...base(s, at), status, outcome, ...extra } as ActionResult;
}

function base(s: ResultSubject, at: Date) {
  return {
    action: s.action,
    target: s.target,
    environment: s.environment,
    approval_id: s.approval_id ?? null,
    logged: false,
    request_id: s.request_id,
    job_id: s.job_id,
    at: at.toISOString(),
  };
}
