// The gate's decision (pure): may this action run on its own, does it need Warden's signed approval,
// or is it refused outright? The design card's rules are the floor; the owner's policy file can only
// add to them. Default is no: anything this code does not recognise ends on the safe side.
import { type Action, type Environment, isAction } from '../contracts/identifiers.js';
import { quoteForMessage } from '../contracts/message-text.js';
import { PLANNED_ACTIONS, type PlannedAction } from '../contracts/plan.js';
import { type ClassificationRule, isEnvironment } from './environment-of.js';

export type Decision = 'auto' | 'needs_approval' | 'deny';
export interface Verdict {
  decision: Decision;
  /** One plain sentence naming the rule that decided. */
  reason: string;
}

export type Direction = 'up' | 'down' | 'same';

export interface DecideInput {
  action: string;
  /** The target's REAL environment (environmentOf), never the requested one. */
  environment: string;
  /** For scale: from the current replica count to the wanted one; null when unknown. */
  direction: Direction | null;
  /** For remove: volume data is deleted without an archive (volumes: true, archive: false). */
  deletesUnarchivedData?: boolean;
  /** Set only by the executor for the rollback inside an approved deploy's plan. */
  automaticRollback?: boolean;
}

/** A rule of the owner's policy file: every action listed (or every change, '*') in the environment. */
export interface PolicyRule {
  readonly environment: Environment | '*';
  /** '*' means every action that changes something (the eight that have a plan), never the reads. */
  readonly actions: readonly Action[] | '*';
}

export interface Policy {
  readonly requireApproval: readonly PolicyRule[];
  readonly deny: readonly PolicyRule[];
  readonly classify: readonly ClassificationRule[];
  /** How long a parked request waits for Warden, in seconds. */
  readonly approvalDeadlineS: number;
  /** The owner's post-deploy stability window in seconds; null leaves it to the executor's default. */
  readonly stabilityWindowS: number | null;
}

export const DEFAULT_APPROVAL_DEADLINE_S = 3600;

/** The design card's policy, with no owner additions. */
export const DEFAULT_POLICY: Policy = Object.freeze({
  requireApproval: Object.freeze([]),
  deny: Object.freeze([]),
  classify: Object.freeze([]),
  approvalDeadlineS: DEFAULT_APPROVAL_DEADLINE_S,
  stabilityWindowS: null,
});

export const READ_ACTIONS = ['health_check', 'logs', 'status', 'stats'] as const;

export function isChangingAction(action: string): action is PlannedAction {
  return (PLANNED_ACTIONS as readonly string[]).includes(action);
}

function ruleMatches(rule: PolicyRule, action: Action, environment: Environment): boolean {
  if (rule.environment !== '*' && rule.environment !== environment) return false;
  return rule.actions === '*' ? isChangingAction(action) : rule.actions.includes(action);
}

const verdict = (decision: Decision, reason: string): Verdict => ({ decision, reason });

/**
 * The verdict for one action on a target in its real environment. Order: an action outside the
 * contract is denied; the automatic rollback of an approved deploy is auto; the owner's deny rules;
 * reads are auto; the owner's require_approval rules; the design card (a remove that deletes volume
 * data without an archive, like a scale-down, needs approval everywhere).
 */
export function decide(input: DecideInput, policy: Policy = DEFAULT_POLICY): Verdict {
  const action = input.action;
  if (!isAction(action)) {
    return verdict(
      'deny',
      `unknown action ${quoteForMessage(String(action))} is not in the contract: refused`,
    );
  }
  // The automatic rollback restores the release an approved (or automatic) deploy's plan names:
  // the card wants it at once on failure, and the contract lets recovery always restore that release.
  if (action === 'rollback' && input.automaticRollback === true) {
    return verdict(
      'auto',
      "an automatic rollback is part of the approved deploy's plan: no further approval",
    );
  }

  const known = isEnvironment(input.environment);
  const environment: Environment = known ? (input.environment as Environment) : 'production';
  const where = known
    ? `in ${environment}`
    : `in an unknown environment (${quoteForMessage(String(input.environment))}, counted as production)`;

  const denyIndex = policy.deny.findIndex((r) => ruleMatches(r, action, environment));
  if (denyIndex >= 0) {
    return verdict(
      'deny',
      `${action} ${where} is refused by the owner's policy (deny rule ${denyIndex + 1})`,
    );
  }
  if (!isChangingAction(action)) {
    return verdict('auto', `${action} is a safe read: no approval needed (design card)`);
  }
  const ruleIndex = policy.requireApproval.findIndex((r) => ruleMatches(r, action, environment));
  if (ruleIndex >= 0) {
    return verdict(
      'needs_approval',
      `${action} ${where} needs Warden's approval (owner's policy, require_approval rule ${ruleIndex + 1})`,
    );
  }
  if (action === 'remove' && input.deletesUnarchivedData === true) {
    return verdict(
      'needs_approval',
      `remove ${where} deletes volume data without an archive and needs Warden's approval (design card rule 5: no destructive filesystem operation without the owner's explicit instruction)`,
    );
  }
  return cardDefault(action, environment, known, where, input.direction);
}

function cardDefault(
  action: PlannedAction,
  environment: Environment,
  known: boolean,
  where: string,
  rawDirection: unknown,
): Verdict {
  if (action === 'scale') {
    const direction =
      rawDirection === 'up' || rawDirection === 'down' || rawDirection === 'same' ? rawDirection : null;
    if (direction === 'down') {
      return verdict(
        'needs_approval',
        `scale down ${where} needs Warden's approval (design card: scaling down always does)`,
      );
    }
    if (direction === null) {
      return verdict(
        'needs_approval',
        `scale ${where} in an unknown direction needs Warden's approval (default is no: it counts as a scale-down)`,
      );
    }
    if (environment === 'production') {
      const how = direction === 'up' ? 'scale up' : 'scale to the same count';
      return verdict('needs_approval', `${how} ${where} needs Warden's approval (${cardOrDefault(known)})`);
    }
    return verdict(
      'auto',
      `scale ${direction === 'up' ? 'up' : 'to the same count'} ${where} needs no approval (design card: ${environment} changes are automatic)`,
    );
  }
  if (environment === 'production') {
    if (action === 'rollback') {
      return verdict(
        'needs_approval',
        `rollback ${where} is a deploy to production and needs Warden's approval (${cardOrDefault(known)})`,
      );
    }
    return verdict('needs_approval', `${action} ${where} needs Warden's approval (${cardOrDefault(known)})`);
  }
  return verdict(
    'auto',
    `${action} ${where} needs no approval (design card: ${environment} changes are automatic)`,
  );
}

function cardOrDefault(known: boolean): string {
  return known ? 'design card' : 'design card; default is no';
}

/** auto < needs_approval < deny: how strict a verdict is, for comparing policies. */
export function strictness(decision: Decision): number {
  return decision === 'auto' ? 0 : decision === 'needs_approval' ? 1 : 2;
}
