// `desired` for each action that has a plan, exactly as CONTRACT.md "The plan" defines it, with every
// default the request left out written in: a plan says what will happen, never "whatever the default is".
import type { ActionRequest, ActionRequestFor } from '../contracts/action-request.js';
import type { PlanFor, PlannedAction } from '../contracts/plan.js';
import { quoteForMessage } from '../contracts/message-text.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { routingOf, strategyFor } from './deploy-strategy.js';
import { PlanError } from './plan-error.js';
import { scaleChanges } from './scale-choice.js';

export const DEFAULT_TIMEOUT_S = 10;

export interface ReleaseInfo {
  /** The release running now: a deploy replaces it. null when the service has none yet. */
  current: string | null;
  /** The id a deploy records for what it installs (deploy only). */
  next?: string;
  /** The release before `current`: a rollback without `to` goes back to it. */
  previous?: string | null;
  /** The releases Helm knows, with the image each ran (rollback). */
  byId?: Readonly<Record<string, { image_id: string }>>;
}

export interface DesiredInput {
  service: string;
  /** SECRET_NAME → lowercase hex HMAC-SHA256 of its value (deriveKey(helmKey, 'secret-hmac')). */
  secretHmacs?: Readonly<Record<string, string>> | undefined;
  releases?: ReleaseInfo | undefined;
  /** prune: exactly what would be deleted (image ids, or full container ids). */
  pruneItems?: readonly string[] | undefined;
  /** scale: the service's containers now, to name the ones a scale-down removes. */
  containers?: readonly ContainerInspect[] | undefined;
}

export type Desired<A extends PlannedAction> = PlanFor<A>['desired'];

/** Ascending by UTF-16 code units (JavaScript `<`, the order JCS uses), repeats removed. */
export function sortedUnique(items: readonly string[]): string[] {
  return [...new Set(items)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function desiredFor(request: ActionRequest, input: DesiredInput): PlanFor<PlannedAction>['desired'] {
  switch (request.action) {
    case 'deploy':
      return deployDesired(request, input);
    case 'restart':
    case 'stop':
      return { timeout_s: request.params?.timeout_s ?? DEFAULT_TIMEOUT_S };
    case 'scale': {
      const goes = scaleChanges(input.containers ?? [], request.params.replicas).remove;
      return { replicas: request.params.replicas, remove_containers: sortedUnique(goes.map((c) => c.Id)) };
    }
    case 'remove':
      return { volumes: request.params?.volumes ?? false, archive: request.params?.archive ?? true };
    case 'set_env':
      return setEnvDesired(request, input);
    case 'rollback':
      return rollbackDesired(request, input);
    case 'prune':
      if (!input.pruneItems)
        throw new PlanError('internal', 'a prune plan needs the list of items to delete');
      return { what: request.params.what, items: sortedUnique(input.pruneItems) };
    default:
      throw new PlanError(
        'internal',
        `${request.action} is a safe read and has no plan (reads are never gated)`,
      );
  }
}

function deployDesired(request: ActionRequestFor<'deploy'>, input: DesiredInput): Desired<'deploy'> {
  const next = input.releases?.next;
  if (next === undefined) throw new PlanError('internal', 'a deploy plan needs the id of the new release');
  const p = request.params;
  return {
    image: p.image,
    image_id: p.image_id ?? null,
    manifest_digest: p.manifest_digest ?? null,
    artifact_id: p.artifact_id ?? null,
    // Contract 1.6: absent, start-first for a routed service (its containers' labels), else recreate.
    strategy: strategyFor(p.strategy, routingOf((input.containers ?? []).map((c) => c.Config.Labels ?? {}))),
    replaces_release: input.releases?.current ?? null,
    new_release: next,
  };
}

function setEnvDesired(request: ActionRequestFor<'set_env'>, input: DesiredInput): Desired<'set_env'> {
  const set = request.params.set ?? {};
  const entries = sortedUnique(Object.keys(set)).map((name) => {
    const value = set[name];
    if (typeof value === 'string') return [name, { value }] as const;
    if (value === undefined) throw new PlanError('internal', `set_env lost the value of ${name}`);
    const hmacs = input.secretHmacs;
    const hmac = hmacs && Object.hasOwn(hmacs, value.secret) ? hmacs[value.secret] : undefined;
    if (hmac === undefined) {
      throw new PlanError(
        'internal',
        `no HMAC for secret ${quoteForMessage(value.secret)}: read the secret store before planning`,
      );
    }
    return [name, { secret: value.secret, hmac_sha256: hmac }] as const;
  });
  // fromEntries defines own properties, so even a name like __proto__ stays a name.
  return { set: Object.fromEntries(entries), unset: sortedUnique(request.params.unset ?? []) };
}

function rollbackDesired(request: ActionRequestFor<'rollback'>, input: DesiredInput): Desired<'rollback'> {
  const to = request.params?.to ?? input.releases?.previous ?? null;
  if (to === null) {
    throw new PlanError('rollback_unavailable', `${input.service} has no earlier release to roll back to`);
  }
  const known = input.releases?.byId;
  const release = known && Object.hasOwn(known, to) ? known[to] : undefined;
  if (!release) {
    throw new PlanError(
      'rollback_unavailable',
      `${input.service} has no release ${quoteForMessage(to)} that Helm knows of`,
    );
  }
  return { to_release: to, image_id: release.image_id };
}
