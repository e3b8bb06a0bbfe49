// The building blocks every bus schema is made of. Each carries its own plain-word message, so the
// problems Helm reports name the rule that was broken; a missing field falls through to the generic
// "is required" wording of validation-errors.ts.
import { z } from 'zod';
import { describeJsonType, jsonValueProblem, serialisedByteLength } from './json-value.js';
import { isRfc3339Utc, RFC3339_UTC_PATTERN } from './rfc3339.js';
import { codePointLength, isWellFormedUnicode, utf8ByteLength } from './unicode.js';

export const LONE_SURROGATE_MESSAGE = 'must be well-formed Unicode (it contains a lone surrogate)';

/** Every string on the bus: well-formed Unicode. */
export function wellFormedString() {
  return z.string().refine(isWellFormedUnicode, { error: LONE_SURROGATE_MESSAGE, abort: true });
}

export interface TextOptions {
  min: number;
  max: number;
  /** Refuse strings made only of white space. */
  notBlank?: boolean;
  description?: string;
}

/** Free text whose length is counted in code points (JSON Schema's minLength/maxLength count the same). */
export function text({ min, max, notBlank = false, description }: TextOptions) {
  const lengthRule = min === max ? `exactly ${min}` : min === 0 ? `at most ${max}` : `${min} to ${max}`;
  let schema = wellFormedString().refine(
    (s) => {
      const n = codePointLength(s);
      return n >= min && n <= max;
    },
    {
      error: (iss) => `must be ${lengthRule} characters long, got ${codePointLength(String(iss.input))}`,
      abort: true,
    },
  );
  if (notBlank) schema = schema.refine((s) => s.trim() !== '', { error: 'must not be blank' });
  return schema.meta({ minLength: min, maxLength: max, ...(description ? { description } : {}) });
}

/** A string matching an ASCII pattern; the message says in words what the pattern allows. */
export function patternString(pattern: RegExp, message: string, description?: string) {
  const schema = wellFormedString().regex(pattern, { error: message });
  return description ? schema.meta({ description }) : schema;
}

/** A safe integer in [min, max], with one message for every way of missing it. */
export function integerRange(min: number, max: number, description?: string) {
  const message = `must be an integer from ${min} to ${max}`;
  // A missing value falls through (undefined) to the generic "is required".
  const error = (iss: { input?: unknown }) => (iss.input === undefined ? undefined : message);
  const schema = z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
  return description ? schema.meta({ description }) : schema;
}

export const SafeIntegerSchema = z
  .number({ error: (iss) => (iss.input === undefined ? undefined : 'must be a safe integer') })
  .int({ error: 'must be an integer within ±(2^53 − 1)' });

export const LowerHexSchema = patternString(/^[0-9a-f]+$/, 'must be lowercase hex');

/** A bare SHA-256 hash: 64 lowercase hex digits (plan_hash, config_hmac, hmac_sha256). */
export const Sha256HexSchema = patternString(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits (a SHA-256)');

/** A content address as Docker writes it: "sha256:" + 64 lowercase hex (image_id, manifest_digest). */
export const Sha256DigestSchema = patternString(
  /^sha256:[0-9a-f]{64}$/,
  'must be "sha256:" followed by 64 lowercase hex digits',
);

export const UUID_V4_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
export const UuidV4Schema = patternString(UUID_V4_PATTERN, 'must be a lowercase UUID v4');

export const Rfc3339UtcSchema = wellFormedString()
  .regex(RFC3339_UTC_PATTERN, {
    error: 'must be an RFC 3339 UTC time like 2026-11-29T17:06:10.123Z (Z, 0 to 9 fractional digits)',
    abort: true,
  })
  .refine(isRfc3339Utc, { error: 'is not a real date and time (no Feb 30, hour 24 or leap second)' })
  .meta({ description: 'RFC 3339 time in UTC with Z and 0-9 fractional digits; the date must exist.' });

/**
 * A free-form JSON object (result data, alert details): plain JSON all the way down, and at most
 * `maxBytes` once serialised (UTF-8 bytes of JSON.stringify).
 */
export function jsonObject(maxBytes: number, description: string) {
  return z
    .record(z.string(), z.unknown(), {
      error: (iss) =>
        iss.input === undefined ? undefined : `must be a JSON object, got ${describeJsonType(iss.input)}`,
    })
    .superRefine((value, ctx) => {
      const problem = jsonValueProblem(value);
      if (problem) {
        ctx.addIssue({ code: 'custom', message: `must be plain JSON, but it ${problem}` });
        return;
      }
      const size = serialisedByteLength(value) ?? Number.POSITIVE_INFINITY;
      if (size > maxBytes) {
        ctx.addIssue({
          code: 'custom',
          message: `must be at most ${maxBytes} bytes serialised, got ${size}`,
        });
      }
    })
    .meta({ description });
}

/** A string whose UTF-8 encoding is at most `maxBytes` bytes. */
export function utf8BoundedString(maxBytes: number) {
  return wellFormedString().refine((s) => utf8ByteLength(s) <= maxBytes, {
    error: (iss) => `must be at most ${maxBytes} bytes in UTF-8, got ${utf8ByteLength(String(iss.input))}`,
  });
}
