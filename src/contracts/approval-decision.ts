// ApprovalDecision, received on helm.approvals. Strict, with no defaults and no transforms, because
// its signature covers the decision exactly as received: parsing must neither add nor drop anything.
import { z } from 'zod';
import { Rfc3339UtcSchema, Sha256HexSchema, patternString, text, UuidV4Schema } from './primitives.js';

export const APPROVAL_DECISION_TYPE = 'helm.approval-decision.v1';
export const DECISIONS = ['approved', 'denied'] as const;
export type Decision = (typeof DECISIONS)[number];

export const KEY_ID_PATTERN = /^[0-9a-f]{16}$/;
/**
 * Standard base64 with padding of a 64-byte Ed25519 signature: 86 characters then "==". The last
 * character must leave the unused bits zero, so one signature has exactly one text.
 */
export const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{85}[AQgw]==$/;

export const ApprovalDecisionSchema = z.strictObject({
  type: z.literal(APPROVAL_DECISION_TYPE),
  approval_id: UuidV4Schema,
  decision: z.enum(DECISIONS),
  plan_hash: Sha256HexSchema,
  approver: text({ min: 1, max: 128, notBlank: true, description: 'Who decided, as Warden names them.' }),
  key_id: patternString(
    KEY_ID_PATTERN,
    'must be 16 lowercase hex digits (the start of the SHA-256 of the key’s SPKI DER)',
    "First 16 lowercase hex of the SHA-256 of the signing key's SPKI DER encoding.",
  ),
  decided_at: Rfc3339UtcSchema,
  expires_at: Rfc3339UtcSchema,
  reason: text({
    min: 1,
    max: 1000,
    notBlank: true,
    description: 'Optional; when present, a string (never null).',
  }).optional(),
  signature: patternString(
    SIGNATURE_PATTERN,
    'must be the standard base64 (with padding) of a 64-byte Ed25519 signature',
    'Ed25519 signature over the RFC 8785 form of the decision as received, without signature; base64 with padding.',
  ),
});

export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;
export type UnsignedApprovalDecision = Omit<ApprovalDecision, 'signature'>;
