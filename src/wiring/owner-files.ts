import type { Config } from '../config/config.js';
import { definedSecrets, loadServicesFile, type ServicesFile } from '../executor/services-file.js';
import { DEFAULT_POLICY, type Policy } from '../policy/policy.js';
import { loadPolicyFile } from '../policy/policy-file.js';
import { type SecretScopes, secretScopeProblem } from '../secrets/secret-scopes.js';
import { StartupError } from './startup-error.js';

/** The design card's policy, tightened by the owner's file; a file that would loosen it stops start-up. */
export async function loadPolicy(config: Readonly<Config>): Promise<Policy> {
  let policy = DEFAULT_POLICY;
  if (config.policyFile) {
    const loaded = await loadPolicyFile(config.policyFile);
    if (!loaded.ok)
      throw new StartupError(loaded.problems.map((p) => `HELM_POLICY_FILE ${config.policyFile}: ${p}`));
    policy = loaded.policy;
  }
  return config.approvalDeadlineS === null
    ? policy
    : { ...policy, approvalDeadlineS: config.approvalDeadlineS };
}

/** The owner's services file (first releases); a file with problems stops start-up, as the policy does. */
export async function loadOwnerServices(config: Readonly<Config>): Promise<ServicesFile | null> {
  if (!config.servicesFile) return null;
  const loaded = await loadServicesFile(config.servicesFile);
  if (!loaded.ok) throw new StartupError(loaded.problems);
  return loaded.file;
}

/** Start-up warnings: secrets the services file gives a service that their scopes do not allow there. */
export function servicesSecretScopeProblems(file: ServicesFile, scopes: SecretScopes): string[] {
  return Object.entries(file.services)
    .flatMap(([service, spec]) =>
      definedSecrets(file, service).flatMap(
        (secret) => secretScopeProblem(scopes, secret, { service, environment: spec.environment }) ?? [],
      ),
    )
    .map((p) => `services file: ${p}; a first deploy of that service will be refused`);
}
