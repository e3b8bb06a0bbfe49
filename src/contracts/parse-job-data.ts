// The entry points a worker calls first: guard, validate, and answer in plain words. They never throw
// on any input (fast-check checks that), so a malformed job fails once, clearly, and is not retried.
import type { z } from 'zod';
import type { ActionRequest } from './action-request.js';
import { ActionRequestEnvelopeSchema, ActionRequestSchema } from './action-request.js';
import { isAction } from './identifiers.js';
import { isPlainObject } from './json-value.js';
import { jobDataGuardProblem, MAX_JOB_DATA_BYTES } from './job-data-guard.js';
import { describeIssues, plainWordsErrorMap } from './validation-errors.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

export interface ParseOptions {
  maxBytes?: number;
}

/** Guard size and shape, then validate against `schema`, with every problem as one plain line. */
export function parseJobData<S extends z.ZodType>(
  schema: S,
  data: unknown,
  options: ParseOptions = {},
): Parsed<z.output<S>> {
  const guard = jobDataGuardProblem(data, options.maxBytes ?? MAX_JOB_DATA_BYTES);
  if (guard) return { ok: false, problems: [guard] };
  const result = schema.safeParse(data, { error: plainWordsErrorMap });
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, problems: describeIssues(result.error.issues, data) };
}

export type ParsedActionRequest = { ok: true; request: ActionRequest } | { ok: false; problems: string[] };

/** The first step of the helm.actions worker. */
export function parseActionRequest(data: unknown, options: ParseOptions = {}): ParsedActionRequest {
  const guard = jobDataGuardProblem(data, options.maxBytes ?? MAX_JOB_DATA_BYTES);
  if (guard) return { ok: false, problems: [guard] };
  const action = isPlainObject(data) ? data['action'] : undefined;
  if (!isAction(action)) {
    // The union can only say "no such action"; the envelope reports that and every other field too.
    const envelope = ActionRequestEnvelopeSchema.safeParse(data, { error: plainWordsErrorMap });
    const problems = envelope.success ? ['action is invalid'] : describeIssues(envelope.error.issues, data);
    return { ok: false, problems };
  }
  const result = ActionRequestSchema.safeParse(data, { error: plainWordsErrorMap });
  if (result.success) return { ok: true, request: result.data };
  return { ok: false, problems: describeIssues(result.error.issues, data, { action }) };
}
