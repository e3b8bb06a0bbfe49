import type { ActionRequest, Environment, Plan } from '../contracts/index.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { buildPlan, PlanError } from '../plan/build-plan.js';
import type { ClassificationRule } from '../policy/environment-of.js';
import { type Observation, observeHost, observeTarget } from './observe-target.js';
import { DEFAULT_SCOPE, type PlanInputSources, planInputs, planSources } from './plan-inputs.js';

/** A target Helm could observe: its service, containers as inspected now, and real environment. */
export type Seen = Extract<Observation, { ok: true }>;

export interface ObserveAndPlanDeps extends PlanInputSources {
  docker: DockerReads;
  /** deriveKey(helmKey, 'config-hmac'). */
  configKey: Buffer;
  /** The owner's services file: the environment of a service defined there with no container yet. */
  definedEnvironment?: (service: string) => Environment | null;
}

export interface ObserveAndPlanArgs<R> {
  request: ActionRequest;
  /** The target as the caller names it: the request's target at the gate, the plan's service at the executor. */
  target: string;
  /** The Docker host id the plan names: this host's (a prune's target may also be "local"). */
  host: string;
  classification: readonly ClassificationRule[];
  /**
   * The caller's own checks on what was seen, run before the plan reads anything more (secret values
   * among them): a refusal returned here ends it, and is handed back as it is.
   */
  beforePlanning: (seen: Seen) => Promise<R | null>;
}

export type ObserveAndPlan<R> =
  | { ok: true; seen: Seen; plan: Plan }
  | { ok: false; stage: 'observe'; unseen: Extract<Observation, { ok: false }> }
  | { ok: false; stage: 'check'; refusal: R }
  | { ok: false; stage: 'plan'; error: PlanError };

/**
 * Look at the target and build the plan exactly as CONTRACT.md defines it: the gate does it to decide,
 * the executor does it again just before its first change to see whether the target still looks the
 * same. Each caller words the refusals for its own audience (a request's result, an exec result).
 */
export async function observeAndPlan<R>(
  deps: ObserveAndPlanDeps,
  args: ObserveAndPlanArgs<R>,
): Promise<ObserveAndPlan<R>> {
  const { request, target } = args;
  const seen =
    request.action === 'prune'
      ? await observeHost(deps.docker, target, args.host, deps.scope ?? DEFAULT_SCOPE, args.classification)
      : await observeTarget(
          deps.docker,
          target,
          args.classification,
          request.action === 'deploy' ? deps.definedEnvironment : undefined,
        );
  if (!seen.ok) return { ok: false, stage: 'observe', unseen: seen };
  const refusal = await args.beforePlanning(seen);
  if (refusal !== null) return { ok: false, stage: 'check', refusal };
  try {
    const plan = buildPlan({
      request,
      host: args.host,
      service: seen.service.name,
      environment: seen.environment,
      containers: seen.containers,
      configKey: deps.configKey,
      // plan-inputs.ts (scale/remove/set_env/prune executors): secret HMACs, prune items, releases
      ...(await planInputs({
        request,
        service: seen.service.name,
        containers: seen.containers,
        docker: deps.docker,
        ...planSources(deps),
      })),
    });
    return { ok: true, seen, plan };
  } catch (err) {
    if (err instanceof PlanError) return { ok: false, stage: 'plan', error: err };
    throw err;
  }
}
