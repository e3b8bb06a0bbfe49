import type { Config } from '../config/config.js';
import { definedEnvironment, definedSecrets, type ServicesFile } from '../executor/services-file.js';
import type { ReleaseStore } from '../releases/release-store.js';
import type { SecretStore } from '../secrets/secret-store.js';
import { readSecretScopes } from '../secrets/secret-scopes.js';
import type { PlanSources } from './parts.js';

/** What the gate and the executor's re-check read before a plan: releases, secrets, scope, the services file. */
export function makePlanSources(
  config: Readonly<Config>,
  deps: { releases: ReleaseStore; secrets: SecretStore; secretKey: Buffer; services: ServicesFile | null },
): PlanSources {
  const { services } = deps;
  return {
    releases: deps.releases,
    secrets: deps.secrets,
    secretKey: deps.secretKey,
    scope: config.scope,
    ...(services ? { definedEnvironment: (name: string) => definedEnvironment(services, name) } : {}),
    secretScopes: () => readSecretScopes(config.secretsDir),
    ...(services ? { definedSecrets: (name: string) => definedSecrets(services, name) } : {}),
  };
}
