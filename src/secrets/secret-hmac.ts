import { createHmac, timingSafeEqual } from 'node:crypto';
import { deriveKey, loadOrCreateHelmKey } from '../keys/helm-key.js';
import { MIN_SECRET_LENGTH } from '../log/redactor.js';
import { SecretNotFoundError, type SecretStore } from './secret-store.js';

/**
 * The HMAC a set_env plan carries for a secret reference (CONTRACT.md: `hmac_sha256`): lowercase hex
 * HMAC-SHA256 under deriveKey(helmKey, 'secret-hmac') of the secret's UTF-8 value. Warden sees that
 * the value changed or not, never the value.
 */
export function secretHmac(secretKey: Buffer, value: string): string {
  return createHmac('sha256', secretKey).update(value, 'utf8').digest('hex');
}

export function sameHmac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The secret-HMAC key from Helm's key in the memory folder (the one every Helm process shares). */
export async function secretHmacKeyOf(memoryDir: string): Promise<Buffer> {
  return deriveKey(await loadOrCreateHelmKey(memoryDir), 'secret-hmac');
}

/** Why a secret cannot be used, in words without its value; null when it can. */
export function secretValueProblem(name: string, value: string): string | null {
  if (value.length < MIN_SECRET_LENGTH)
    return `secret "${name}" is shorter than ${MIN_SECRET_LENGTH} characters, so Helm could not redact it from logs and results; Helm does not use it`;
  if (value.includes('\u0000'))
    return `secret "${name}" contains a NUL character, which an environment cannot carry`;
  return null;
}

export type SecretRead =
  | { ok: true; value: string }
  | { ok: false; reason: 'missing' | 'unusable'; message: string };

/** Reads a secret for set_env (its value is added to the redactor by the store). */
export async function readSecretForEnv(secrets: SecretStore | undefined, name: string): Promise<SecretRead> {
  if (!secrets)
    return {
      ok: false,
      reason: 'missing',
      message: `secret "${name}" cannot be read: Helm has no secret store (HELM_SECRETS_DIR)`,
    };
  let value: string;
  try {
    value = await secrets.read(name);
  } catch (err) {
    if (err instanceof SecretNotFoundError)
      return { ok: false, reason: 'missing', message: `secret "${name}" is not in the owner's secret store` };
    throw err;
  }
  const problem = secretValueProblem(name, value);
  return problem ? { ok: false, reason: 'unusable', message: problem } : { ok: true, value };
}
