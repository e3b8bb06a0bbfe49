// ActionResult: the design card's seven fields plus request_id, job_id, at, error, data, release and
// duplicate_of. The strict schema is what Helm emits and checks before it sends; the consumer schema
// is what another agent should parse with (unknown error codes and unknown fields accepted).
import { z } from 'zod';
import { ErrorCodeSchema, ConsumerErrorCodeSchema } from './error-codes.js';
import {
  ALL_IN_SCOPE,
  ENVIRONMENTS,
  HostIdSchema,
  isAction,
  JobIdSchema,
  RequestIdSchema,
  TARGET_PATTERN,
} from './identifiers.js';
import { isPlainObject } from './json-value.js';
import { jsonObject, Rfc3339UtcSchema, text, UuidV4Schema } from './primitives.js';
import { READ_DATA_SCHEMAS } from './read-results.js';
import { ReleaseSchema } from './release.js';

export const ACTION_STATUSES = ['pending_approval', 'approved', 'executed', 'failed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];
export const ActionStatusSchema = z.enum(ACTION_STATUSES);
export const FINAL_STATUSES: readonly ActionStatus[] = ['executed', 'failed'];

/** `data` is at most 64 KiB: UTF-8 bytes of its JSON serialisation. */
export const MAX_RESULT_DATA_BYTES = 64 * 1024;
/** How much of a submitted action/target/environment an invalid_request result echoes. */
export const ECHO_MAX_CODE_POINTS = 128;
export const MAX_OUTCOME_CODE_POINTS = 2000;
export const MAX_ERROR_MESSAGE_CODE_POINTS = 2000;

/** An echoed field: a string as submitted (cut to 128 code points), or null. */
const EchoSchema = text({ min: 0, max: ECHO_MAX_CODE_POINTS }).nullable();

const errorShape = (code: z.ZodType) => ({
  code,
  message: text({ min: 1, max: MAX_ERROR_MESSAGE_CODE_POINTS, notBlank: true }),
});

export const ActionResultErrorSchema = z.strictObject(errorShape(ErrorCodeSchema));

/**
 * One line a container wrote: which replica, which stream, Docker's timestamp (null when Docker gave
 * none), and the text with secrets redacted. Lines of several replicas are interleaved by time.
 */
export const LogLineSchema = z.strictObject({
  container: z.string(),
  stream: z.enum(['stdout', 'stderr']),
  at: z.string().nullable(),
  text: z.string(),
});
export type LogLine = z.infer<typeof LogLineSchema>;

/** The output of a logs action: the newest lines, and whether older ones were dropped to fit 64 KiB. */
export const LogsDataSchema = z.looseObject({ lines: z.array(LogLineSchema), truncated: z.boolean() });
export type LogsData = z.infer<typeof LogsDataSchema>;

const resultShape = {
  action: EchoSchema,
  target: EchoSchema,
  environment: EchoSchema,
  status: ActionStatusSchema,
  approval_id: UuidV4Schema.nullable(),
  outcome: text({ min: 0, max: MAX_OUTCOME_CODE_POINTS }),
  logged: z.boolean().meta({ description: 'True only once the run-log entry is on disk.' }),
  request_id: RequestIdSchema.nullable(),
  job_id: JobIdSchema.meta({ description: 'The helm.actions job id.' }),
  at: Rfc3339UtcSchema,
  data: jsonObject(
    MAX_RESULT_DATA_BYTES,
    `The action's output (health details; for logs, lines and truncated); at most ${MAX_RESULT_DATA_BYTES} bytes serialised.`,
  ).optional(),
  release: ReleaseSchema.optional(),
  duplicate_of: JobIdSchema.meta({
    description: "The original request's job id (a duplicate request_id).",
  }).optional(),
  // --- contract 1.5 (several hosts) ---
  host: HostIdSchema.meta({
    description: 'The host id (HELM_HOST_ID) of the Helm that published the result (1.5); absent before 1.5.',
  }).optional(),
  // --- end 1.5 ---
};

const STRICT_RULES =
  'error is present exactly when status is "failed". action, target and environment are a known action, ' +
  'a valid target and a known environment, except in a failed result with error.code "invalid_request", ' +
  'where they echo what was submitted (strings cut to 128 code points) or are null. pending_approval ' +
  'carries an approval_id; approved carries the approval_id of the Warden decision, or null when the ' +
  'policy needs no approval (a safe read). For an executed logs request, data holds lines ({ container, stream, at, text }) ' +
  'and truncated (boolean). status and stats (1.3) may have the target "*"; their executed data holds ' +
  'containers and truncated (and for stats, host), as in CONTRACT.md.';

/** status and stats (1.3) may name everything in scope. */
function validTarget(action: string | null, target: string | null): boolean {
  if (typeof target !== 'string') return false;
  if (target === ALL_IN_SCOPE) return action === 'status' || action === 'stats';
  return TARGET_PATTERN.test(target);
}

export const ActionResultSchema = z
  .strictObject({ ...resultShape, error: ActionResultErrorSchema.optional() })
  .superRefine((result, ctx) => {
    const failed = result.status === 'failed';
    if (failed && result.error === undefined) {
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'is required when status is failed' });
    }
    if (!failed && result.error !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['error'], message: 'must be absent unless status is failed' });
    }
    if (!(failed && result.error?.code === 'invalid_request')) {
      if (!isAction(result.action))
        ctx.addIssue({ code: 'custom', path: ['action'], message: 'must be a known action' });
      if (!validTarget(result.action, result.target)) {
        ctx.addIssue({ code: 'custom', path: ['target'], message: 'must be a valid target' });
      }
      if (!(ENVIRONMENTS as readonly unknown[]).includes(result.environment)) {
        ctx.addIssue({ code: 'custom', path: ['environment'], message: 'must be a known environment' });
      }
    }
    // "approved" with a null approval_id means the policy cleared it without Warden (a safe read).
    if (result.status === 'pending_approval' && result.approval_id === null) {
      ctx.addIssue({
        code: 'custom',
        path: ['approval_id'],
        message: `is required when status is ${result.status}`,
      });
    }
    if (
      result.action === 'logs' &&
      result.status === 'executed' &&
      isPlainObject(result.data) &&
      !LogsDataSchema.safeParse(result.data).success
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: 'must hold lines ({ container, stream, at, text }) and truncated (boolean) for logs',
      });
    }
    const readData =
      result.action !== null && Object.hasOwn(READ_DATA_SCHEMAS, result.action)
        ? READ_DATA_SCHEMAS[result.action]
        : undefined;
    if (readData && result.status === 'executed' && !readData.safeParse(result.data).success) {
      ctx.addIssue({
        code: 'custom',
        path: ['data'],
        message: `must be ${result.action}'s data (CONTRACT.md)`,
      });
    }
  })
  .meta({ description: STRICT_RULES });

/**
 * For consumers: unknown error codes and unknown top-level fields are accepted, and so is output shaped
 * exactly like the design card (request_id, job_id and at absent); everything present is checked.
 */
export const ConsumerActionResultSchema = z.looseObject({
  ...resultShape,
  request_id: resultShape.request_id.optional(),
  job_id: resultShape.job_id.optional(),
  at: resultShape.at.optional(),
  error: z.looseObject(errorShape(ConsumerErrorCodeSchema)).optional(),
});

export type ActionResult = z.infer<typeof ActionResultSchema>;
export type ActionResultError = z.infer<typeof ActionResultErrorSchema>;
export type ConsumerActionResult = z.infer<typeof ConsumerActionResultSchema>;
