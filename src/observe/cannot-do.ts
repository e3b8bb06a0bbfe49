// What this Helm cannot carry out, known from the request and the target before anyone is asked (pure).
// The gate refuses these before it builds a plan, so Warden is never asked to approve a change that
// would then fail `unavailable` or `not_supported`. The executors keep their own checks as a backstop.
// When Helm learns one of these, its rule here goes with it (start-first did, issue 11: contract 1.6).
import type { ActionRequest, ActionRequestFor } from '../contracts/action-request.js';
import type { ErrorCode } from '../contracts/error-codes.js';
import type { ContainerInspect, ImageInspect } from '../docker/docker-objects.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import { routingOf, strategyFor, strategyRefusal } from '../plan/deploy-strategy.js';
import { bindsFixedHostPort } from './fixed-port.js';

export interface CannotDo {
  code: Extract<ErrorCode, 'unavailable' | 'not_supported'>;
  /** Plain words: what cannot be done, why, and what to ask for instead; ends "nothing was changed". */
  message: string;
}

/**
 * Why this Helm cannot deploy `service` with the strategy asked for (the default filled in as the plan
 * will: start-first for a routed service); null when it can (plan/deploy-strategy.ts).
 */
export function deployRefusal(request: ActionRequestFor<'deploy'>, service: ResolvedService): string | null {
  const routing = routingOf(service.containers.map((c) => c.labels));
  const strategy = strategyFor(request.params.strategy, routing);
  return strategyRefusal(service.name, strategy, routing, service.composeProject);
}

/** For a scale to more than one replica: the container new replicas would copy, and its image. */
export interface ScaleSource {
  info: ContainerInspect;
  image: ImageInspect | null;
}

/** Why this Helm cannot carry out `request` on `service` at all, whoever approves it; null when it can. */
export function cannotDo(
  request: ActionRequest,
  service: ResolvedService,
  scaleSource: ScaleSource | null = null,
): CannotDo | null {
  const nothing = 'nothing was changed';
  const compose = service.composeProject;
  switch (request.action) {
    case 'deploy': {
      const refusal = deployRefusal(request, service);
      return refusal ? { code: 'not_supported', message: refusal } : null;
    }
    case 'scale':
      if (compose)
        return {
          code: 'unavailable',
          message: `${service.name} is a service of compose project ${compose}, and compose scales its own services (docker compose up --scale), which this Helm does not run; ${nothing}`,
        };
      if (request.params.replicas <= 1) return null;
      if (service.via === 'container_name')
        return {
          code: 'not_supported',
          message: `${service.name} is known only by its container name, so another replica could not be found as ${service.name}: label it ghost.service=${service.name} to run more than one; ${nothing}`,
        };
      return fixedPortRefusal(service.name, request.params.replicas, scaleSource);
    case 'set_env':
      return compose
        ? {
            code: 'unavailable',
            message: `${service.name} is a service of compose project ${compose}, and its environment is in the project's files, which Helm does not rewrite; ${nothing}`,
          }
        : null;
    default:
      return null;
  }
}

function fixedPortRefusal(name: string, replicas: number, source: ScaleSource | null): CannotDo | null {
  const fixed = source ? bindsFixedHostPort(source.info, source.image) : null;
  return fixed?.fixed
    ? {
        code: 'not_supported',
        message: `${name} cannot run ${replicas} replicas: ${fixed.why}, so a second replica could not bind it (and a loopback health check would be answered by the first); nothing was changed`,
      }
    : null;
}
