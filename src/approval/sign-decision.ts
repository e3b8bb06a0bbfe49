// Building and signing an ApprovalDecision: what Warden does, here so that tests, vectors and the
// owner's tooling produce decisions exactly as the contract defines them.
import { type KeyObject, sign } from 'node:crypto';
import type { ApprovalDecision, Decision } from '../contracts/approval-decision.js';
import { APPROVAL_DECISION_TYPE, ApprovalDecisionSchema } from '../contracts/approval-decision.js';
import { canonicalJson } from '../contracts/canonical.js';
import { describeIssues, plainWordsErrorMap } from '../contracts/validation-errors.js';
import { keyIdOf } from './key-id.js';

export interface DecisionFields {
  approval_id: string;
  decision: Decision;
  plan_hash: string;
  approver: string;
  decided_at: string;
  expires_at: string;
  reason?: string;
}

/**
 * The text a signature covers: the canonical form of the decision as received, without `signature`.
 * Takes any object so a verifier can hand it what arrived, untouched.
 */
export function decisionSigningText(decision: Readonly<Record<string, unknown>>): string {
  const { signature: _signature, ...signed } = decision;
  return canonicalJson(signed);
}

/** Build, sign and self-check a decision. Throws when the fields would make a malformed decision. */
export function signDecision(fields: DecisionFields, privateKey: KeyObject): ApprovalDecision {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError('signDecision needs an Ed25519 private key');
  }
  const unsigned: Record<string, unknown> = {
    type: APPROVAL_DECISION_TYPE,
    approval_id: fields.approval_id,
    decision: fields.decision,
    plan_hash: fields.plan_hash,
    approver: fields.approver,
    key_id: keyIdOf(privateKey),
    decided_at: fields.decided_at,
    expires_at: fields.expires_at,
  };
  // An absent reason is absent, never null or undefined: the signed bytes must match what is sent.
  if (fields.reason !== undefined) unsigned['reason'] = fields.reason;
  const signature = sign(null, Buffer.from(decisionSigningText(unsigned), 'utf8'), privateKey).toString(
    'base64',
  );
  const decision = { ...unsigned, signature };
  const checked = ApprovalDecisionSchema.safeParse(decision, { error: plainWordsErrorMap });
  if (!checked.success) {
    throw new TypeError(
      `signDecision would produce a malformed decision: ${describeIssues(checked.error.issues, decision).join('; ')}`,
    );
  }
  return checked.data;
}
