import type { ActionRequest, ActionResult, Environment } from '../contracts/index.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { cannotDo, type ScaleSource } from '../observe/cannot-do.js';
import type { Seen } from '../observe/observe-and-plan.js';
import { ENVIRONMENT_RANK } from '../observe/observe-target.js';
import { scaleChanges } from '../plan/scale-choice.js';
import { outOfScopeSecrets, summariseScopeProblems } from '../secrets/secret-scope-check.js';
import { finishFailed } from './finish-request.js';
import type { GateDeps, HeldRequest } from './gate-deps.js';

/**
 * The gate's own checks on what it saw, in this order, before the plan reads any secret: Helm's own
 * containers, the stated environment, secret scopes, and what this Helm cannot do. null: none refuses.
 */
export async function refusalBeforePlanning(
  deps: GateDeps,
  held: HeldRequest,
  seen: Seen,
): Promise<ActionResult | null> {
  const { request } = held;
  if (seen.protectedBy)
    return finishFailed(
      deps,
      held,
      'protected_target',
      `Helm never changes its own containers or the bus: ${seen.protectedBy}; nothing was changed`,
    );
  if (request.environment !== seen.environment) return refuseEnvironment(deps, held, seen.environment);

  // Before the plan reads any secret, and before the policy or Warden: in every environment.
  const outOfScope = await outOfScopeSecrets(request, seen, deps);
  if (outOfScope.length > 0) return refuseSecrets(deps, held, seen.environment, outOfScope);

  // What this Helm cannot do is refused before Warden is asked to approve it (cannot-do.ts).
  const impossible = cannotDo(
    request,
    seen.service,
    await scaleSourceOf(deps.docker, request, seen.containers),
  );
  if (impossible) return finishFailed(deps, held, impossible.code, impossible.message);
  return null;
}

/** The request names another environment than the target's; naming a weaker one is alerted. */
async function refuseEnvironment(deps: GateDeps, held: HeldRequest, real: Environment) {
  const { request, subject } = held;
  const weaker = ENVIRONMENT_RANK[request.environment] < ENVIRONMENT_RANK[real];
  if (weaker) {
    await deps.alerts.send({
      severity: 'critical',
      kind: 'security',
      target: request.target,
      environment: real,
      message: `A request named ${request.target} ${request.environment}, but it is ${real}: refused. Someone may be trying to get around Warden.`,
      details: {
        job_id: subject.job_id,
        requested_by: request.requested_by ?? null,
        stated: request.environment,
        real,
      },
      dedup_key: `security:environment:${subject.job_id}`,
    });
  }
  return finishFailed(
    deps,
    held,
    'environment_mismatch',
    `${request.target} is ${real}, not ${request.environment}; nothing was changed`,
  );
}

/** A secret reference outside its scope: someone may be reaching for a secret; alerted, never asked. */
async function refuseSecrets(
  deps: GateDeps,
  held: HeldRequest,
  environment: Environment,
  problems: string[],
) {
  const { request, subject } = held;
  const why = summariseScopeProblems(problems);
  await deps.alerts.send({
    severity: 'critical',
    kind: 'security',
    target: request.target,
    environment,
    message:
      request.action === 'set_env'
        ? `A set_env on ${request.target} named secrets the owner did not allow there: refused, nothing was changed and Warden was not asked. Someone may be trying to copy a secret out of its scope. ${why}`
        : `A first deploy of ${request.target} would give it secrets from the owner's services file that their scopes do not allow there: refused, nothing was changed and Warden was not asked. ${why}`,
    details: {
      job_id: subject.job_id,
      requested_by: request.requested_by ?? null,
      problems: problems.slice(0, 20),
    },
    dedup_key: `security:secret_scope:${subject.job_id}`,
  });
  return finishFailed(deps, held, 'denied', `${why}; nothing was changed`);
}

/** For a scale to more than one replica: the replica new ones would copy (replica 1), and its image. */
async function scaleSourceOf(
  docker: DockerReads,
  request: ActionRequest,
  containers: readonly ContainerInspect[],
): Promise<ScaleSource | null> {
  if (request.action !== 'scale' || request.params.replicas <= 1) return null;
  const info = scaleChanges(containers, request.params.replicas).keep[0];
  if (!info) return null;
  return { info, image: await docker.inspectImage(info.Image).catch(() => null) };
}
