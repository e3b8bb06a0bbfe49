// The plan (pure): the request plus what Docker says about the target now, as the exact data Warden
// judges and signs the hash of (CONTRACT.md "The plan"). The executor later rebuilds it from a fresh
// look at the target; a different hash means the target changed and nothing is done.
import type { ActionRequest } from '../contracts/action-request.js';
import { canonicalJson } from '../contracts/canonical.js';
import type { Environment } from '../contracts/identifiers.js';
import { type DecideInput, type Direction, isChangingAction } from '../policy/policy.js';
import { type Plan, type PlanContainer, PlanSchema } from '../contracts/plan.js';
import { describeIssues, plainWordsErrorMap } from '../contracts/validation-errors.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { configHmac } from './config-hmac.js';
import { type DesiredInput, desiredFor, type ReleaseInfo } from './desired-state.js';
import { PlanError } from './plan-error.js';

export { DEFAULT_TIMEOUT_S, type ReleaseInfo } from './desired-state.js';
export { PlanError, type PlanErrorCode } from './plan-error.js';
export { planSteps, stepContextOf } from './plan-steps.js';

export interface BuildPlanInput {
  /** A request that passed ActionRequestSchema. */
  request: ActionRequest;
  /** The Docker host id ("local" is the engine Helm runs against). */
  host: string;
  /** The resolved service (for prune the plan uses the host id instead). */
  service: string;
  /** The target's REAL environment (environmentOf / strongestEnvironment), not the requested one. */
  environment: Environment;
  /** The service's current containers, as inspected now (any order). */
  containers: readonly ContainerInspect[];
  /** deriveKey(helmKey, 'config-hmac'). */
  configKey: Buffer;
  /** set_env: SECRET_NAME → HMAC of its value now (deriveKey(helmKey, 'secret-hmac')). */
  secretHmacs?: Readonly<Record<string, string>>;
  /** deploy and rollback. */
  releases?: ReleaseInfo;
  /** prune: exactly what would be deleted. */
  pruneItems?: readonly string[];
}

export function preconditionsOf(containers: readonly ContainerInspect[], configKey: Buffer): PlanContainer[] {
  const list = containers
    .map((c) => ({ id: c.Id, image_id: c.Image, config_hmac: configHmac(c, configKey) }))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (let i = 1; i < list.length; i++) {
    if (list[i]?.id === list[i - 1]?.id) {
      throw new PlanError('internal', `container ${list[i]?.id.slice(0, 12)} was passed twice`);
    }
  }
  return list;
}

/** The plan for a request that changes something. Throws PlanError; the result passed PlanSchema. */
export function buildPlan(input: BuildPlanInput): Plan {
  const { request } = input;
  if (!isChangingAction(request.action)) {
    throw new PlanError(
      'internal',
      `${request.action} is a safe read and has no plan (reads are never gated)`,
    );
  }
  const desiredInput: DesiredInput = {
    service: input.service,
    secretHmacs: input.secretHmacs,
    releases: input.releases,
    pruneItems: input.pruneItems,
    containers: input.containers,
  };
  const plan = {
    plan_version: 1,
    action: request.action,
    host: input.host,
    // CONTRACT.md decision 13: for prune, `service` repeats the host id.
    service: request.action === 'prune' ? input.host : input.service,
    environment: input.environment,
    request_id: request.request_id ?? null,
    requested_by: request.requested_by ?? null,
    preconditions: { containers: preconditionsOf(input.containers, input.configKey) },
    desired: desiredFor(request, desiredInput),
  };
  const parsed = PlanSchema.safeParse(plan, { error: plainWordsErrorMap });
  if (!parsed.success) {
    const problems = describeIssues(parsed.error.issues, plan).join('; ');
    throw new PlanError('internal', `the ${request.action} plan does not fit the contract: ${problems}`);
  }
  // The schema must not have dropped or rewritten anything (zod's records skip a "__proto__" key):
  // Warden signs what Helm built, byte for byte.
  if (canonicalJson(parsed.data) !== canonicalJson(plan)) {
    throw new PlanError('internal', `the ${request.action} plan changed when checked against the contract`);
  }
  return parsed.data;
}

/** From the current replica count to the wanted one; null when either is not a count (policy: down). */
export function scaleDirection(currentReplicas: number, wanted: number): Direction | null {
  const isCount = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (!isCount(currentReplicas) || !isCount(wanted)) return null;
  return wanted > currentReplicas ? 'up' : wanted < currentReplicas ? 'down' : 'same';
}

/**
 * What the policy needs to know about a plan, read from the plan alone, so the gate (before asking
 * Warden) and the executor (before acting) ask the policy exactly the same question.
 */
export function policyInputOf(plan: Plan): DecideInput {
  return {
    action: plan.action,
    environment: plan.environment,
    direction:
      plan.action === 'scale'
        ? scaleDirection(plan.preconditions.containers.length, plan.desired.replicas)
        : null,
    deletesUnarchivedData: plan.action === 'remove' && plan.desired.volumes && !plan.desired.archive,
  };
}
