import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { RegistryAuth } from '../docker/docker-ports.js';
import type { Redactor } from '../log/redactor.js';

/**
 * Registry credentials for pulls, from a file in Docker's config.json format
 * (`{ "auths": { "<registry>": { "auth": base64("user:password") } } }`, or `username`/`password`):
 * HELM_REGISTRY_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json. Read at each
 * pull (credentials rotate); every password found is added to the redactor before it is used, so it
 * can appear in no sink. Credential helpers (credsStore) are not supported.
 */
export function makeRegistryAuth(
  file: string | undefined,
  redactor: Redactor,
): (registry: string) => Promise<RegistryAuth | null> {
  const path = file ?? join(process.env['DOCKER_CONFIG'] ?? join(homedir(), '.docker'), 'config.json');
  return async (registry) => {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return null;
    }
    let auths: Record<string, { auth?: string; username?: string; password?: string }>;
    try {
      auths = (JSON.parse(text) as { auths?: typeof auths }).auths ?? {};
    } catch {
      return null;
    }
    const entry = auths[registry] ?? auths[`https://${registry}`] ?? auths[`http://${registry}`];
    if (!entry) return null;
    let username = entry.username;
    let password = entry.password;
    if (entry.auth) {
      redactor.add(entry.auth);
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) {
        username = decoded.slice(0, colon);
        password = decoded.slice(colon + 1);
      }
    }
    if (!username || password === undefined) return null;
    redactor.add(password);
    return { username, password, serveraddress: registry };
  };
}
