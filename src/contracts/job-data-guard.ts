// Checks that come before any schema: job data must be a JSON object of bounded size. The size is
// checked first so a huge job is refused without walking it through zod or quoting any of it.
import { describeJsonType, isPlainObject, serialisedByteLength } from './json-value.js';
import { MAX_INLINE_ENV_VALUE_BYTES } from './set-env-params.js';

/**
 * Largest job data Helm will look at, in UTF-8 bytes of its JSON serialisation (512 KiB). A set_env
 * request may carry several 32 KiB inline values (15 fit with room for the rest of the request).
 */
export const MAX_JOB_DATA_BYTES = 16 * MAX_INLINE_ENV_VALUE_BYTES;

/** A plain message when the job data is too large (or cannot be serialised at all), else null. */
export function jobDataSizeProblem(data: unknown, maxBytes: number = MAX_JOB_DATA_BYTES): string | null {
  const size = serialisedByteLength(data);
  if (size === null) return `job data must be JSON, got ${describeJsonType(data)}`;
  if (size > maxBytes) return `job data must be at most ${maxBytes} bytes serialised, got ${size}`;
  return null;
}

/** The size guard for job data still as text (e.g. read from Redis), before JSON.parse. */
export function jobTextSizeProblem(text: string, maxBytes: number = MAX_JOB_DATA_BYTES): string | null {
  const size = Buffer.byteLength(text, 'utf8');
  return size > maxBytes ? `job data must be at most ${maxBytes} bytes serialised, got ${size}` : null;
}

/** Size first, then shape: the problem that stops validation before any schema runs, or null. */
export function jobDataGuardProblem(data: unknown, maxBytes: number = MAX_JOB_DATA_BYTES): string | null {
  const sizeProblem = jobDataSizeProblem(data, maxBytes);
  if (sizeProblem) return sizeProblem;
  return isPlainObject(data) ? null : `job data must be a JSON object, got ${describeJsonType(data)}`;
}
