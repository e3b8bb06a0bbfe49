// set_env params. Inline values are plain configuration and rest in Redis, approval requests and
// release records; secret values are only named here and read by Helm at execution. So no message
// ever quotes a value, and a value's size is capped in UTF-8 bytes: what it costs on the wire.
import { z } from 'zod';
import { describeJsonType, isPlainObject } from './json-value.js';
import { EnvNameSchema, SecretNameSchema } from './identifiers.js';
import { quoteForMessage } from './message-text.js';
import { paramsError } from './params-messages.js';
import { LONE_SURROGATE_MESSAGE, utf8BoundedString } from './primitives.js';
import { isWellFormedUnicode, utf8ByteLength } from './unicode.js';

/** Largest inline value, counted in UTF-8 bytes (32 KiB). */
export const MAX_INLINE_ENV_VALUE_BYTES = 32 * 1024;
/** Most names one set_env request may set, and most it may unset. */
export const MAX_SET_ENV_NAMES = 256;

const NUL_MESSAGE = 'must not contain a NUL character (a process environment cannot carry one)';
const SET_VALUE_SHAPE = `must be a string of at most ${MAX_INLINE_ENV_VALUE_BYTES} bytes or { "secret": SECRET_NAME }`;

export const InlineEnvValueSchema = utf8BoundedString(MAX_INLINE_ENV_VALUE_BYTES)
  .refine((s) => !s.includes('\u0000'), { error: NUL_MESSAGE })
  .meta({
    description: `Inline configuration value: at most ${MAX_INLINE_ENV_VALUE_BYTES} bytes in UTF-8, no NUL.`,
  });

export const SecretRefSchema = z.strictObject({ secret: SecretNameSchema });

/**
 * Why a set value was refused, in words that never include the value. (zod reports problems inside a
 * { secret } object itself; this covers values that match neither shape.)
 */
function setValueProblem(input: unknown): string {
  if (typeof input === 'string') {
    if (!isWellFormedUnicode(input)) return LONE_SURROGATE_MESSAGE;
    if (utf8ByteLength(input) > MAX_INLINE_ENV_VALUE_BYTES) {
      return `must be at most ${MAX_INLINE_ENV_VALUE_BYTES} bytes in UTF-8, got ${utf8ByteLength(input)}`;
    }
    if (input.includes('\u0000')) return NUL_MESSAGE;
  }
  if (isPlainObject(input)) {
    return "must be { \"secret\": SECRET_NAME }, SECRET_NAME a letter or digit then letters, digits, '_', '.', '-'";
  }
  return `${SET_VALUE_SHAPE}, got ${describeJsonType(input)}`;
}

export const SetEnvValueSchema = z.union([InlineEnvValueSchema, SecretRefSchema], {
  error: (iss) => (iss.input === undefined ? undefined : setValueProblem(iss.input)),
});

export const SetEnvParamsSchema = z
  .strictObject(
    {
      set: z
        .record(EnvNameSchema, SetEnvValueSchema)
        .refine((set) => Object.keys(set).length <= MAX_SET_ENV_NAMES, {
          error: `must set at most ${MAX_SET_ENV_NAMES} names`,
        })
        .optional(),
      unset: z
        .array(EnvNameSchema)
        .max(MAX_SET_ENV_NAMES, { error: `must list at most ${MAX_SET_ENV_NAMES} names` })
        .refine((names) => new Set(names).size === names.length, { error: 'must not list a name twice' })
        .optional(),
    },
    { error: paramsError('set_env', ['set', 'unset'], 'set or params.unset') },
  )
  .superRefine((params, ctx) => {
    const set = isPlainObject(params.set) ? Object.keys(params.set) : [];
    const unset = Array.isArray(params.unset) ? params.unset : [];
    if (set.length === 0 && unset.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'params.set or params.unset is required for set_env' });
      return;
    }
    const both = unset.find((name) => set.includes(name));
    if (both !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['unset'],
        message: `must not name ${quoteForMessage(both)}, which params.set also sets`,
      });
    }
  })
  .meta({
    description:
      'At least one name to set or unset; a name may not be both set and unset; names in unset are unique.',
  });

export type SetEnvParams = z.infer<typeof SetEnvParamsSchema>;
export type SetEnvValue = z.infer<typeof SetEnvValueSchema>;
