// Where each secret of the owner's store may go. A secret's value ends up in a container's
// environment, where everyone who can read that container (docker inspect, the service itself) can
// read it; so a reference to a secret is honoured only for the services and environments the owner
// named for it, whoever asks and whatever the environment. Default is no: a secret the scopes file
// does not list goes only to the environment the owner names as the default, and without a scopes
// file to none.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import {
  type Environment,
  EnvironmentSchema,
  SecretNameSchema,
  TargetSchema,
} from '../contracts/identifiers.js';
import { describeIssues, plainWordsErrorMap } from '../contracts/validation-errors.js';

/**
 * The scopes file, `.scopes.yaml` in the secret store's folder (a dot name is never a secret's):
 *
 * ```yaml
 * default_environment: dev         # a secret not listed below may go to dev containers only
 * secrets:
 *   shop-db:
 *     environments: [production]   # any production service
 *   stripe-key:
 *     services: [billing]          # the billing service, in any environment
 *   staging-db:
 *     services: [web, worker]      # both lists: web and worker, in staging only
 *     environments: [staging]
 * ```
 */
export const SECRET_SCOPES_FILE = '.scopes.yaml';
export const MAX_SECRET_SCOPES_BYTES = 256 * 1024;

const ScopeSchema = z
  .strictObject({
    environments: z.array(EnvironmentSchema).min(1).optional(),
    services: z.array(TargetSchema).min(1).optional(),
  })
  .refine((s) => s.environments !== undefined || s.services !== undefined, {
    error: 'must name environments, services or both (a secret that may go nowhere: leave it out)',
  });

export const SecretScopesFileSchema = z.strictObject({
  default_environment: EnvironmentSchema.optional(),
  secrets: z.record(SecretNameSchema, ScopeSchema).optional(),
});

export type SecretScopes = z.infer<typeof SecretScopesFileSchema>;
export type LoadedSecretScopes = { ok: true; scopes: SecretScopes } | { ok: false; problems: string[] };

/** No scopes file: no secret may go anywhere. */
export const NO_SECRET_SCOPES: SecretScopes = Object.freeze({});

/** Where a secret's value would be written: the service's resolved name and its real environment. */
export interface SecretDestination {
  service: string;
  environment: Environment;
}

/** Parse the text of a scopes file; an empty file is no scopes. Problems name the field, never a value. */
export function parseSecretScopes(text: string): LoadedSecretScopes {
  if (Buffer.byteLength(text, 'utf8') > MAX_SECRET_SCOPES_BYTES)
    return { ok: false, problems: [`larger than ${MAX_SECRET_SCOPES_BYTES} bytes`] };
  const doc = parseDocument(text, { uniqueKeys: true, schema: 'core', prettyErrors: false });
  if (doc.errors.length > 0)
    return { ok: false, problems: doc.errors.map((e) => `${e.message.split('\n')[0]} (YAML)`) };
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = SecretScopesFileSchema.safeParse(data, { error: plainWordsErrorMap });
  if (!parsed.success) return { ok: false, problems: describeIssues(parsed.error.issues, data) };
  return { ok: true, scopes: parsed.data };
}

/**
 * The scopes file of the secret store in `dir`, read now (the owner may edit it while Helm runs).
 * No store or no file: no scopes, so no secret may go anywhere.
 */
export async function readSecretScopes(dir: string | undefined): Promise<LoadedSecretScopes> {
  if (!dir) return { ok: true, scopes: NO_SECRET_SCOPES };
  const path = join(dir, SECRET_SCOPES_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: true, scopes: NO_SECRET_SCOPES };
    return { ok: false, problems: [`${path}: cannot read the secret scopes (${code ?? 'error'})`] };
  }
  const loaded = parseSecretScopes(text);
  return loaded.ok ? loaded : { ok: false, problems: loaded.problems.map((p) => `${path}: ${p}`) };
}

/**
 * Why `secret` may not go to `to`, in words without any value; null when it may. A listed secret
 * goes where each of its lists (environments, services) allows; an unlisted one only to the
 * default environment.
 */
export function secretScopeProblem(
  scopes: SecretScopes,
  secret: string,
  to: SecretDestination,
): string | null {
  const where = `${to.service} (${to.environment})`;
  const scope = scopes.secrets && Object.hasOwn(scopes.secrets, secret) ? scopes.secrets[secret] : undefined;
  if (!scope) {
    if (scopes.default_environment === to.environment) return null;
    const def = scopes.default_environment
      ? `unlisted secrets go only to ${scopes.default_environment}`
      : 'no default environment is named, so unlisted secrets go nowhere';
    return `secret "${secret}" may not go to ${where}: it is not listed in the owner's secret scopes (${SECRET_SCOPES_FILE}) and ${def}`;
  }
  if (scope.environments && !scope.environments.includes(to.environment))
    return `secret "${secret}" may not go to ${where}: its scope allows the environments ${scope.environments.join(', ')} only`;
  if (scope.services && !scope.services.includes(to.service))
    return `secret "${secret}" may not go to ${where}: its scope allows the services ${scope.services.join(', ')} only`;
  return null;
}
