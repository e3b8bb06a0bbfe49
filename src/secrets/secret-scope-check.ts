import type { ActionRequest, Environment } from '../contracts/index.js';
import {
  type LoadedSecretScopes,
  NO_SECRET_SCOPES,
  type SecretDestination,
  secretScopeProblem,
} from './secret-scopes.js';

/**
 * Which of the owner's secrets a request would write into the service's containers, and whether each
 * may go there. Checked by the gate before any plan, policy or Warden, in every environment: a
 * reference outside its secret's scope is a bus writer reaching for a secret, refused as `denied`.
 */
export interface SecretScopeSources {
  /** The owner's secret scopes, read now (secrets/secret-scopes.ts); absent: no secret may go anywhere. */
  secretScopes?: () => Promise<LoadedSecretScopes>;
  /** The secrets the owner's services file gives a service (used by its first deploy), or none. */
  definedSecrets?: (service: string) => readonly string[];
}

/** The secret names a request would read into the service's containers, sorted and unique. */
export function secretsRequested(
  request: ActionRequest,
  firstDeploy: boolean,
  definedSecrets: SecretScopeSources['definedSecrets'],
  service: string,
): string[] {
  const names =
    request.action === 'set_env'
      ? Object.values(request.params.set ?? {}).flatMap((v) => (typeof v === 'string' ? [] : [v.secret]))
      : request.action === 'deploy' && firstDeploy
        ? [...(definedSecrets?.(service) ?? [])]
        : [];
  return [...new Set(names)].sort();
}

/** One line per secret that may not go to `to` (a broken scopes file refuses them all); [] when all may. */
export async function secretScopeProblems(
  names: readonly string[],
  to: SecretDestination,
  sources: SecretScopeSources,
): Promise<string[]> {
  if (names.length === 0) return [];
  const loaded = sources.secretScopes
    ? await sources.secretScopes()
    : { ok: true as const, scopes: NO_SECRET_SCOPES };
  if (!loaded.ok)
    return [
      `the owner's secret scopes cannot be read, so no secret may go anywhere: ${loaded.problems.join('; ')}`,
    ];
  return names.flatMap((name) => secretScopeProblem(loaded.scopes, name, to) ?? []);
}

/** What the gate and the executor ask, on what they observed of the target: [] when every reference may go. */
export function outOfScopeSecrets(
  request: ActionRequest,
  seen: { service: { name: string }; containers: readonly unknown[]; environment: Environment },
  sources: SecretScopeSources,
): Promise<string[]> {
  const service = seen.service.name;
  const names = secretsRequested(request, seen.containers.length === 0, sources.definedSecrets, service);
  return secretScopeProblems(names, { service, environment: seen.environment }, sources);
}

/** The problems in one line short enough for a result or an alert (each problem is at most ~400 characters). */
export function summariseScopeProblems(problems: readonly string[]): string {
  const shown = problems.slice(0, 3).join('; ');
  return problems.length > 3 ? `${shown}; and ${problems.length - 3} more secrets out of scope` : shown;
}
