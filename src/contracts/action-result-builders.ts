// Builders for the ActionResult cases the contract spells out, so every worker words them alike.
import type { ActionResult } from './action-result.js';
import { ECHO_MAX_CODE_POINTS, MAX_ERROR_MESSAGE_CODE_POINTS } from './action-result.js';
import { REQUEST_ID_PATTERN } from './identifiers.js';
import { isPlainObject } from './json-value.js';
import { takeCodePoints } from './unicode.js';

/** A lone surrogate becomes U+FFFD, so an echo of hostile input is still well-formed. */
function toWellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

/** What an invalid_request result echoes of a submitted field: the string cut to 128 code points, or null. */
export function echoSubmitted(value: unknown): string | null {
  return typeof value === 'string' ? takeCodePoints(toWellFormed(value), ECHO_MAX_CODE_POINTS) : null;
}

export interface InvalidRequestInput {
  /** The job data as received (anything). */
  data: unknown;
  jobId: string;
  problems: readonly string[];
  at: string;
  logged: boolean;
}

/**
 * The final result for input that failed validation. request_id is echoed only when it is a valid
 * one: an invalid request does not reserve its id, and an invalid id cannot be echoed as one.
 */
export function invalidRequestResult({
  data,
  jobId,
  problems,
  at,
  logged,
}: InvalidRequestInput): ActionResult {
  const fields = isPlainObject(data) ? data : {};
  const requestId = fields['request_id'];
  const message = takeCodePoints(problems.join('; ') || 'invalid request', MAX_ERROR_MESSAGE_CODE_POINTS);
  return {
    action: echoSubmitted(fields['action']),
    target: echoSubmitted(fields['target']),
    environment: echoSubmitted(fields['environment']),
    status: 'failed',
    approval_id: null,
    outcome: `refused: invalid request (${problems.length} ${problems.length === 1 ? 'problem' : 'problems'})`,
    logged,
    request_id: typeof requestId === 'string' && REQUEST_ID_PATTERN.test(requestId) ? requestId : null,
    job_id: jobId,
    at,
    error: { code: 'invalid_request', message },
  };
}
