// Verifying a decision exactly as it arrived. The signature covers the received object's canonical
// form, so nothing here may go through a parse that adds or drops a field before the check: the
// strict schema only looks (it refuses missing fields, unknown fields and a null reason), and the
// bytes verified are computed from the received object itself.
import { verify } from 'node:crypto';
import type { ApprovalDecision } from '../contracts/approval-decision.js';
import { ApprovalDecisionSchema } from '../contracts/approval-decision.js';
import { jobDataGuardProblem } from '../contracts/job-data-guard.js';
import { describeIssues, plainWordsErrorMap } from '../contracts/validation-errors.js';
import { parseJsonWithoutDuplicateKeys } from './json-text.js';
import type { Keyring } from './keyring.js';
import { decisionSigningText } from './sign-decision.js';

export type DecisionRefusal = 'malformed' | 'unknown_key' | 'bad_signature';

export type DecisionVerdict =
  | { ok: true; decision: ApprovalDecision }
  | { ok: false; reason: DecisionRefusal; detail: string };

/** A decision is a few hundred bytes; anything near this is not one. */
export const MAX_DECISION_BYTES = 16 * 1024;

/** Verify a decision given as the job data object as received. */
export function verifyDecision(received: unknown, keyring: Keyring): DecisionVerdict {
  const guard = jobDataGuardProblem(received, MAX_DECISION_BYTES);
  if (guard) return { ok: false, reason: 'malformed', detail: guard.replace('job data', 'decision') };
  const checked = ApprovalDecisionSchema.safeParse(received, { error: plainWordsErrorMap });
  if (!checked.success) {
    return {
      ok: false,
      reason: 'malformed',
      detail: describeIssues(checked.error.issues, received).join('; '),
    };
  }
  // From here on the received object, not zod's copy, is what counts.
  const decision = received as ApprovalDecision;
  const key = keyring.get(decision.key_id);
  if (!key) {
    return {
      ok: false,
      reason: 'unknown_key',
      detail: `key_id ${decision.key_id} is not a configured Warden key`,
    };
  }
  let valid = false;
  try {
    const signedText = decisionSigningText(decision);
    valid = verify(null, Buffer.from(signedText, 'utf8'), key, Buffer.from(decision.signature, 'base64'));
  } catch {
    valid = false;
  }
  if (!valid) {
    return {
      ok: false,
      reason: 'bad_signature',
      detail: `signature does not verify with key ${decision.key_id}`,
    };
  }
  return { ok: true, decision: { ...decision } };
}

/** Verify a decision given as JSON text; a text with a duplicate key is malformed. */
export function verifyDecisionText(text: string, keyring: Keyring): DecisionVerdict {
  if (Buffer.byteLength(text, 'utf8') > MAX_DECISION_BYTES) {
    return { ok: false, reason: 'malformed', detail: `decision must be at most ${MAX_DECISION_BYTES} bytes` };
  }
  let received: unknown;
  try {
    received = parseJsonWithoutDuplicateKeys(text);
  } catch (error) {
    return {
      ok: false,
      reason: 'malformed',
      detail: `decision is not valid JSON: ${(error as Error).message}`,
    };
  }
  return verifyDecision(received, keyring);
}
