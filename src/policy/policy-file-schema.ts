// The owner's policy file (HELM_POLICY_FILE) as a strict zod schema. It holds only additions to the
// design card's rules: more approvals, outright refusals, and a classification of unlabelled
// containers. There is no way to write "no approval" in it: such keys are unknown, and the loader
// names them as attempts to loosen the card (loosening-check.ts).
import { z } from 'zod';
import { ACTIONS, ENVIRONMENTS, isAction } from '../contracts/identifiers.js';
import { describeJsonType } from '../contracts/json-value.js';
import { quoteForMessage } from '../contracts/message-text.js';
import { integerRange } from '../contracts/primitives.js';
import { READ_ACTIONS } from './policy.js';

const isReadAction = (a: string) => (READ_ACTIONS as readonly string[]).includes(a);

export const MIN_APPROVAL_DEADLINE_S = 60;
export const MAX_APPROVAL_DEADLINE_S = 86_400;
export const MIN_STABILITY_WINDOW_S = 10;
export const MAX_STABILITY_WINDOW_S = 3600;

const EnvironmentOrAllSchema = z.enum([...ENVIRONMENTS, '*']);

const ACTIONS_IN_WORDS = ACTIONS.join(', ');

/** Why a value is not '*' or a list of actions, in one line (a union can only say "invalid input"). */
function actionListProblem(input: unknown): string {
  if (Array.isArray(input)) {
    if (input.length === 0) return "must list at least one action, or be '*'";
    const index = input.findIndex((a) => !isAction(a));
    if (index >= 0) {
      const shown =
        typeof input[index] === 'string' ? quoteForMessage(input[index]) : describeJsonType(input[index]);
      return `item ${index + 1} (${shown}) is not an action (${ACTIONS_IN_WORDS})`;
    }
    return 'must not list an action twice';
  }
  const shown = typeof input === 'string' ? quoteForMessage(input) : describeJsonType(input);
  return `must be '*' or a list of actions (${ACTIONS_IN_WORDS}), got ${shown}`;
}

const ActionListSchema = z.union(
  [
    z.literal('*'),
    z
      .array(z.enum(ACTIONS))
      .min(1, { error: "must list at least one action, or be '*'" })
      .refine((list) => new Set(list).size === list.length, { error: 'must not list an action twice' }),
  ],
  { error: (iss) => (iss.input === undefined ? undefined : actionListProblem(iss.input)) },
);

const RuleShape = { environment: EnvironmentOrAllSchema, actions: ActionListSchema };

const RequireApprovalRuleSchema = z
  .strictObject(RuleShape)
  .refine((rule) => rule.actions === '*' || !rule.actions.some((a) => isReadAction(a)), {
    error:
      'health_check, logs, status and stats are safe reads and are never gated (the contract has no plan for them): ' +
      'put them under deny to refuse them',
    path: ['actions'],
  });

export const CLASSIFY_PATTERN = /^[A-Za-z0-9_.*?-]{1,256}$/;

const ClassifyRuleSchema = z.strictObject({
  pattern: z.string().regex(CLASSIFY_PATTERN, {
    error: "must be a container-name glob: letters, digits, '_', '.', '-', with '*' and '?' (at most 256)",
  }),
  environment: z.enum(ENVIRONMENTS),
});

export const PolicyFileSchema = z.strictObject({
  require_approval: z.array(RequireApprovalRuleSchema).optional(),
  deny: z.array(z.strictObject(RuleShape)).optional(),
  classify: z.array(ClassifyRuleSchema).optional(),
  approval_deadline_s: integerRange(MIN_APPROVAL_DEADLINE_S, MAX_APPROVAL_DEADLINE_S).optional(),
  stability_window_s: integerRange(MIN_STABILITY_WINDOW_S, MAX_STABILITY_WINDOW_S).optional(),
});

export type PolicyFile = z.infer<typeof PolicyFileSchema>;
export const POLICY_FILE_KEYS = Object.keys(PolicyFileSchema.shape);
