// ApprovalRequest, sent to warden.requests. Warden decides on `plan` alone and must recompute
// plan_hash from it; steps and request are courtesy text that anyone with write access could forge.
import { z } from 'zod';
import { ActionRequestSchema } from './action-request.js';
import { CanonicalJsonError, hashCanonical } from './canonical.js';
import { PlanSchema } from './plan.js';
import { parseRfc3339Utc } from './rfc3339.js';
import { Rfc3339UtcSchema, Sha256HexSchema, text, UuidV4Schema } from './primitives.js';

export const APPROVAL_REQUEST_TYPE = 'helm.approval-request.v1';
export const MAX_STEPS = 100;
export const MAX_STEP_CODE_POINTS = 1000;

export const ApprovalRequestSchema = z
  .strictObject({
    type: z.literal(APPROVAL_REQUEST_TYPE),
    approval_id: UuidV4Schema,
    plan_hash: Sha256HexSchema.meta({ description: 'Lowercase hex SHA-256 of the RFC 8785 form of plan.' }),
    plan: PlanSchema,
    steps: z
      .array(text({ min: 1, max: MAX_STEP_CODE_POINTS }))
      .max(MAX_STEPS)
      .meta({ description: 'Courtesy text for people; not trusted.' }),
    request: ActionRequestSchema.meta({
      description: 'The ActionRequest, secrets as their references; courtesy, not trusted.',
    }),
    requested_at: Rfc3339UtcSchema,
    expires_at: Rfc3339UtcSchema,
  })
  .superRefine((req, ctx) => {
    try {
      if (hashCanonical(req.plan) !== req.plan_hash) {
        ctx.addIssue({
          code: 'custom',
          path: ['plan_hash'],
          message: 'does not match the plan (SHA-256 of its canonical form)',
        });
      }
    } catch (error) {
      if (!(error instanceof CanonicalJsonError)) throw error;
      ctx.addIssue({ code: 'custom', path: ['plan'], message: error.message });
    }
    const requested = parseRfc3339Utc(String(req.requested_at));
    const expires = parseRfc3339Utc(String(req.expires_at));
    if (requested !== null && expires !== null && expires <= requested) {
      ctx.addIssue({ code: 'custom', path: ['expires_at'], message: 'must be after requested_at' });
    }
    if (
      req.request?.action !== undefined &&
      req.plan?.action !== undefined &&
      req.request.action !== req.plan.action
    ) {
      ctx.addIssue({ code: 'custom', path: ['request', 'action'], message: 'must be the plan action' });
    }
  })
  .meta({
    description:
      'plan_hash must equal the hash of plan; expires_at is after requested_at; request.action equals plan.action.',
  });

export type ApprovalRequest = z.infer<typeof ApprovalRequestSchema>;
