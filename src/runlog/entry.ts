/**
 * What one run-log entry is, and how a caller's input becomes one (validation, caps, time). Pure.
 */

/** What a caller hands to `append`. Every field but `event` and `message` may be left out (= null). */
export interface RunLogEntryInput {
  /** The state change or Helm event: `received`, `executed`, `startup`, `disk_full`, … (`^[a-z][a-z_]{0,39}$`). */
  event: string;
  job_id?: string | null;
  request_id?: string | null;
  action?: string | null;
  target?: string | null;
  environment?: string | null;
  approval_id?: string | null;
  /** An error code, or null when there is none. */
  code?: string | null;
  /** Plain words for people. */
  message: string;
  /** When it happened. @defaultValue the run log's clock at the time of the call */
  at?: Date;
}

/** One entry as it stands in the file. */
export interface RunLogEntry {
  /** 1, 2, 3… per file, without gaps. */
  seq: number;
  /** RFC 3339 UTC with milliseconds and Z, e.g. `2026-11-29T17:06:10.123Z`. */
  at: string;
  event: string;
  job_id: string | null;
  request_id: string | null;
  action: string | null;
  target: string | null;
  environment: string | null;
  approval_id: string | null;
  code: string | null;
  message: string;
  /** HMAC-SHA256 (lowercase hex) over the previous mac and this entry. */
  mac: string;
}

/** An entry before the chain gives it a seq and a mac. */
export type RunLogDraft = Omit<RunLogEntry, 'seq' | 'mac'>;

/** The nullable fields, in the order they appear on a line. */
export const OPTIONAL_FIELDS = [
  'job_id',
  'request_id',
  'action',
  'target',
  'environment',
  'approval_id',
  'code',
] as const satisfies readonly (keyof RunLogDraft)[];

/** Every optional field absent (null), in line order: where a draft and a parsed line both start. */
export const NO_OPTIONAL_FIELDS = Object.freeze(
  Object.fromEntries(OPTIONAL_FIELDS.map((field) => [field, null])),
) as Readonly<Record<(typeof OPTIONAL_FIELDS)[number], null>>;

export const EVENT_PATTERN = /^[a-z][a-z_]{0,39}$/;
export const AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Caps in code points. Longer values are cut, never refused: a caller must not lose a log line to a long field. */
export const MESSAGE_MAX_CODE_POINTS = 2000;
export const FIELD_MAX_CODE_POINTS = 256;
export const TRUNCATION_MARK = '…';

export function isValidEvent(event: unknown): event is string {
  return typeof event === 'string' && EVENT_PATTERN.test(event);
}

/** True for the exact form `Date#toISOString` gives for years 0000–9999. */
export function isValidAt(at: unknown): at is string {
  if (typeof at !== 'string' || !AT_PATTERN.test(at)) return false;
  const date = new Date(at);
  return !Number.isNaN(date.getTime()) && date.toISOString() === at;
}

/** Cuts `value` to `max` code points, the last one being `…`. Lone surrogates count as one code point each. */
export function truncateCodePoints(value: string, max: number): string {
  // Cheap exit: a string of at most `max` UTF-16 units has at most `max` code points.
  if (value.length <= max) return value;
  const points = Array.from(value);
  if (points.length <= max) return value;
  return points.slice(0, max - 1).join('') + TRUNCATION_MARK;
}

/**
 * Turns caller input into a draft entry. Throws TypeError only for programming errors (a bad event name,
 * a non-string field, an invalid date); long values are truncated instead.
 */
export function draftFromInput(input: RunLogEntryInput, now: () => Date): RunLogDraft {
  if (typeof input !== 'object' || input === null) throw new TypeError('run-log entry must be an object');
  if (!isValidEvent(input.event)) {
    throw new TypeError(`run-log event must match ${EVENT_PATTERN}, got ${JSON.stringify(input.event)}`);
  }
  if (typeof input.message !== 'string') throw new TypeError('run-log message must be a string');
  const when = input.at ?? now();
  if (!(when instanceof Date) || Number.isNaN(when.getTime())) {
    throw new TypeError('run-log time must be a valid Date');
  }
  const at = when.toISOString();
  if (!isValidAt(at)) throw new TypeError(`run-log time must lie in the years 0000–9999, got ${at}`);

  const draft: RunLogDraft = {
    at,
    event: input.event,
    ...NO_OPTIONAL_FIELDS,
    message: truncateCodePoints(input.message, MESSAGE_MAX_CODE_POINTS),
  };
  for (const field of OPTIONAL_FIELDS) {
    const value = input[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'string') throw new TypeError(`run-log field ${field} must be a string or null`);
    draft[field] = truncateCodePoints(value, FIELD_MAX_CODE_POINTS);
  }
  return draft;
}
