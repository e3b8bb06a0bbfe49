import type { Scope } from '../config/config.js';
import type { ActionRequest } from '../contracts/action-request.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { isManaged } from '../docker/scope.js';
import { pruneCandidates } from './prune-candidates.js';
import type { ReleaseStore } from '../releases/release-store.js';
import { readSecretForEnv, secretHmac } from '../secrets/secret-hmac.js';
import type { BuildPlanInput } from '../plan/build-plan.js';
import { PlanError } from '../plan/plan-error.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { releaseInfo } from '../releases/release-info.js';

/**
 * What buildPlan needs beyond the request and the containers, read from the world: the gate and the
 * executor call this the same way, so the executor's recomputed plan hashes the same unless the
 * world really changed (a release recorded, a secret's value changed, a prune item appeared or went).
 *
 *  - deploy, rollback: `releases` (release-info.ts);
 *  - set_env: `secretHmacs`, SECRET_NAME → HMAC of its value now, for every `{ secret }` reference
 *    (a missing or unusable secret: invalid_request; no key: internal). The value itself goes nowhere;
 *  - prune: `pruneItems`, exactly what would be deleted (prune-candidates.ts), among the containers in
 *    `scope` (default: every container labelled ghost.service) and the service records in `releases`.
 */
export interface PlanInputSources {
  releases?: ReleaseStore | undefined;
  secrets?: SecretStore | undefined;
  /** deriveKey(helmKey, 'secret-hmac'). */
  secretKey?: Buffer | undefined;
  scope?: Scope | undefined;
}

export interface PlanInputsArgs extends PlanInputSources {
  request: ActionRequest;
  /** The resolved service (prune: the host id). */
  service: string;
  /** The service's containers now: a first deploy adopts them as a release, as the deploy records them. */
  containers?: readonly ContainerInspect[];
  docker: DockerReads;
}

export const DEFAULT_SCOPE: Scope = Object.freeze({ labels: [], allServices: true, composeProjects: [] });

export async function planInputs(args: PlanInputsArgs): Promise<Partial<BuildPlanInput>> {
  const { request } = args;
  switch (request.action) {
    case 'deploy':
    case 'rollback':
      return args.releases
        ? { releases: await releaseInfo(args.releases, args.service, args.containers) }
        : {};
    case 'set_env':
      return { secretHmacs: await secretHmacs(request.params.set ?? {}, args) };
    case 'prune': {
      if (!args.releases) return { pruneItems: [] };
      const scope = args.scope ?? DEFAULT_SCOPE;
      const items = await pruneCandidates(args.docker, args.releases, request.params.what, (labels) =>
        isManaged(labels, scope),
      );
      return { pruneItems: items.map((i) => i.id) };
    }
    default:
      return {};
  }
}

async function secretHmacs(
  set: Readonly<Record<string, string | { secret: string }>>,
  args: PlanInputSources,
): Promise<Record<string, string>> {
  const names = [
    ...new Set(Object.values(set).flatMap((v) => (typeof v === 'string' ? [] : [v.secret]))),
  ].sort();
  const out: Record<string, string> = {};
  if (names.length === 0) return out;
  if (!args.secretKey)
    throw new PlanError(
      'internal',
      'set_env with a secret reference needs Helm’s secret-HMAC key, which this process was not given',
    );
  for (const name of names) {
    const read = await readSecretForEnv(args.secrets, name);
    if (!read.ok) throw new PlanError('invalid_request', read.message);
    Object.defineProperty(out, name, {
      value: secretHmac(args.secretKey, read.value),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * The sources a caller's dependencies hold (the gate's and the executor's deps objects), picked by
 * name: what planInputs needs beyond the request, the service and Docker.
 */
export function planSources(deps: object): PlanInputSources {
  const d = deps as PlanInputSources;
  return { releases: d.releases, secrets: d.secrets, secretKey: d.secretKey, scope: d.scope };
}
