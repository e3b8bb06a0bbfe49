// The published JSON Schema files (draft 2020-12), for agents written in other languages. Built from
// the zod schemas so they cannot drift; rules zod refinements enforce but JSON Schema cannot express
// are stated in each schema's description. scripts/generate-schemas.ts writes them to schemas/.
import { z } from 'zod';
import { AdviceJobSchema } from './advice-job.js';
import { ActionRequestSchema } from './action-request.js';
import { ActionResultSchema, ConsumerActionResultSchema } from './action-result.js';
import { AlertSchema, ConsumerAlertSchema } from './alert.js';
import { DiagnosisDetailsSchema } from './diagnosis-details.js';
import { PlainRequestAnswerSchema, PlainRequestSchema } from './plain-request.js';
import { ApprovalDecisionSchema } from './approval-decision.js';
import { ApprovalRequestSchema } from './approval-request.js';
import { HeartbeatSchema } from './heartbeat.js';
import { PlanSchema } from './plan.js';

export const SCHEMA_ID_BASE = 'urn:ghost:bus:v1:';

const COMMON_RULES =
  'Every string is well-formed Unicode (no lone surrogates); lengths count Unicode code points; times are ' +
  'RFC 3339 UTC with Z and 0-9 fractional digits and must be real dates.';

interface Entry {
  schema: z.ZodType;
  title: string;
  about: string;
}

const ENTRIES: Record<string, Entry> = {
  'action-request': {
    schema: ActionRequestSchema,
    title: 'ActionRequest',
    about:
      'Job data on helm.actions. Unknown keys are refused. Production deploys need params.image_id or ' +
      'params.manifest_digest; if params.image has a digest and manifest_digest is given, they are equal. ' +
      'set_env: at least one name set or unset, no name both; inline values at most 32768 UTF-8 bytes, no NUL. ' +
      'The whole job data is at most 524288 bytes serialised.',
  },
  'action-result': {
    schema: ActionResultSchema,
    title: 'ActionResult',
    about:
      'What Helm emits (progress and return value of helm.actions jobs). error is present exactly when ' +
      'status is failed; only a failed invalid_request result may echo arbitrary strings or null in action, ' +
      'target, environment; pending_approval and approved carry an approval_id; data is at most 65536 bytes ' +
      'serialised. Consumers should prefer action-result.consumer.schema.json.',
  },
  'action-result.consumer': {
    schema: ConsumerActionResultSchema,
    title: 'ActionResult (consumer)',
    about:
      'What a consumer should accept: like action-result, but unknown error codes and unknown fields are ' +
      'allowed, and request_id, job_id and at may be absent (output shaped exactly like the design card).',
  },
  alert: {
    schema: AlertSchema,
    title: 'Alert',
    about:
      'What Helm sends to sentinel.alerts. details is at most 131072 bytes serialised. Consumers should prefer alert.consumer.schema.json.',
  },
  'alert.consumer': {
    schema: ConsumerAlertSchema,
    title: 'Alert (consumer)',
    about:
      'What a consumer should accept: unknown kinds (handle them by severity) and unknown fields are allowed.',
  },
  'approval-request': {
    schema: ApprovalRequestSchema,
    title: 'ApprovalRequest',
    about:
      'Job data on warden.requests. Warden decides on plan alone and must recompute plan_hash (lowercase hex ' +
      'SHA-256 of the RFC 8785 form of plan); steps and request are untrusted courtesy text. expires_at is after ' +
      'requested_at; request.action equals plan.action.',
  },
  'approval-decision': {
    schema: ApprovalDecisionSchema,
    title: 'ApprovalDecision',
    about:
      'Job data on helm.approvals. signature: standard base64 with padding of the Ed25519 signature over the ' +
      'RFC 8785 form of the decision as sent, without signature. A missing field, an unknown field or a null ' +
      'reason is refused.',
  },
  plan: {
    schema: PlanSchema,
    title: 'Plan',
    about:
      'plan_version 1, hashed as a whole; only integers (no floats). Lists are sorted as described below.',
  },
  'diagnosis-details': {
    schema: DiagnosisDetailsSchema,
    title: 'Diagnosis details',
    about:
      'The details of an Alert of kind diagnosis (contract 1.2): advice on one incident, after its alert. ' +
      'A proposal carries request_id exactly when Helm submitted it; only submitted ones were sent to helm.actions.',
  },
  advice: {
    schema: AdviceJobSchema,
    title: 'Advice',
    about:
      'Job data of the job named advice on warden.requests (contract 1.2): a review of a parked deploy, ' +
      'linked by approval_id and plan_hash. Advisory: outside the signed plan; Warden decides on the plan alone.',
  },
  'plain-request': {
    schema: PlainRequestSchema,
    title: 'PlainRequest',
    about: 'Job data on helm.requests (contract 1.2): a request in plain words. Unknown keys are refused.',
  },
  'plain-request-answer': {
    schema: PlainRequestAnswerSchema,
    title: 'PlainRequestAnswer',
    about:
      'The return value of a helm.requests job (contract 1.2). question is present exactly when outcome is ' +
      'question; every request is submitted when outcome is submitted; a request carries request_id exactly when submitted.',
  },
  heartbeat: {
    schema: HeartbeatSchema,
    title: 'Heartbeat',
    about:
      'The JSON string at <prefix>:ghost:heartbeat:helm and <prefix>:ghost:heartbeat:helm:<host>:<pid>, refreshed every 10 s, TTL 30 s.',
  },
};

/** File name → JSON Schema object, in a stable order. */
export function buildJsonSchemas(): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, entry] of Object.entries(ENTRIES)) {
    const generated = z.toJSONSchema(entry.schema, { target: 'draft-2020-12', io: 'input' }) as Record<
      string,
      unknown
    >;
    const { $schema, description, ...rest } = generated;
    out[`${name}.schema.json`] = {
      $schema,
      $id: `${SCHEMA_ID_BASE}${name}`,
      title: entry.title,
      description: [entry.about, description, COMMON_RULES].filter(Boolean).join(' '),
      ...rest,
    };
  }
  return out;
}

/** The exact text of each file (2-space JSON and a final newline). */
export function renderJsonSchemas(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(buildJsonSchemas()).map(([file, schema]) => [
      file,
      `${JSON.stringify(schema, null, 2)}\n`,
    ]),
  );
}
