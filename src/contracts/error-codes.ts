import { z } from 'zod';
import { patternString } from './primitives.js';

/** The failure codes of contract v1. Later minor versions may add codes: consumers accept unknown ones. */
export const ERROR_CODES = [
  'invalid_request',
  'request_id_conflict',
  'unknown_target',
  'target_ambiguous',
  'environment_mismatch',
  'protected_target',
  'not_supported',
  'artifact_mismatch',
  'denied',
  'approval_expired',
  'cancelled',
  'stale_plan',
  'health_check_failed',
  'rolled_back',
  'rollback_failed',
  'rollback_unavailable',
  'docker_error',
  'timeout',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** What Helm emits: only the codes of this version. */
export const ErrorCodeSchema = z.enum(ERROR_CODES);

/** What a consumer accepts: any lowercase snake_case code, so a newer Helm does not break it. */
export const ConsumerErrorCodeSchema = patternString(
  /^[a-z][a-z0-9_]{0,63}$/,
  'must be a lowercase code (a-z, 0-9, _; at most 64)',
  'Known codes are listed in ErrorCode; accept any other and treat it as a generic failure.',
);

export function isKnownErrorCode(code: string): code is ErrorCode {
  return (ERROR_CODES as readonly string[]).includes(code);
}
