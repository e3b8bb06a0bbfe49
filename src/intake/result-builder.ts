import type { ActionResult } from '../contracts/index.js';

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

const ECHO_LIMIT = 128;

/** For invalid input: echo what was submitted when it was a string, cut to 128 code points. */
export function subjectFromRawData(data: unknown, jobId: string): ResultSubject {
  const o = data && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  return {
    action: echo(o.action),
    target: echo(o.target),
    environment: echo(o.environment),
    request_id: echo(o.request_id),
    job_id: jobId,
  };
}

export function echo(v: unknown): string | null {
  if (typeof v !== 'string') return null;
  // Cut by code points and drop lone surrogates so the echo itself is well-formed Unicode.
  return [...v]
    .slice(0, ECHO_LIMIT)
    .filter((ch) => !/^[\uD800-\uDFFF]$/.test(ch))
    .join('');
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
