// config_hmac: a fingerprint of the configuration a container was created with, under Helm's key,
// so Warden can see that a plan's preconditions still hold without seeing a single env value. State
// (running, restarts, PIDs, times) is not part of it: a container that merely restarted keeps it.
import { createHmac } from 'node:crypto';
import { CanonicalJsonError, canonicalJson } from '../contracts/canonical.js';
import type { ContainerInspect } from '../docker/docker-objects.js';

export class ConfigHmacError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** The fields the contract lists, as a plain JSON object: absent values are null. */
export interface ConfigFingerprint {
  Image: unknown;
  Cmd: unknown;
  Entrypoint: unknown;
  Env: unknown;
  Labels: unknown;
  Healthcheck: unknown;
  HostConfig: {
    Binds: unknown;
    Mounts: unknown;
    PortBindings: unknown;
    NetworkMode: unknown;
    RestartPolicy: unknown;
    Privileged: unknown;
    CapAdd: unknown;
  };
}

/**
 * JSON semantics for what a JSON-decoded inspect could never hold: an undefined property is left out,
 * an undefined array slot is null. Everything else is kept as it is and checked by canonicalJson.
 */
function asJson(value: unknown): unknown {
  if (value === undefined) return null;
  if (Array.isArray(value)) return Array.from(value, (v) => asJson(v));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = asJson(v);
    return out;
  }
  return value;
}

/**
 * The container's Config.Image (the reference it was created from; the image id is the plan's
 * image_id), Cmd, Entrypoint, Env (in Docker's order: a later duplicate wins, so order matters),
 * Labels, Healthcheck, and HostConfig's Binds, Mounts, PortBindings, NetworkMode, RestartPolicy,
 * Privileged, CapAdd.
 */
export function configFingerprint(inspect: ContainerInspect): ConfigFingerprint {
  const config = (inspect.Config ?? {}) as Partial<ContainerInspect['Config']>;
  const host = (inspect.HostConfig ?? {}) as Partial<ContainerInspect['HostConfig']>;
  const field = (v: unknown) => asJson(v ?? null);
  return {
    Image: field(config.Image),
    Cmd: field(config.Cmd),
    Entrypoint: field(config.Entrypoint),
    Env: field(config.Env),
    Labels: field(config.Labels),
    Healthcheck: field(config.Healthcheck),
    HostConfig: {
      Binds: field(host.Binds),
      Mounts: field(host.Mounts),
      PortBindings: field(host.PortBindings),
      NetworkMode: field(host.NetworkMode),
      RestartPolicy: field(host.RestartPolicy),
      Privileged: field(host.Privileged),
      CapAdd: field(host.CapAdd),
    },
  };
}

/**
 * Lowercase hex HMAC-SHA256 of the canonical (RFC 8785) form of configFingerprint(inspect), keyed with
 * `deriveKey(helmKey, 'config-hmac')`. A float or an integer beyond ±(2^53 − 1) anywhere in it is
 * refused rather than rounded: Docker writes durations as integer nanoseconds, so a float means the
 * data is not what Helm thinks it is.
 */
export function configHmac(inspect: ContainerInspect, key: Buffer): string {
  if (!Buffer.isBuffer(key) || key.length < 16) {
    throw new ConfigHmacError(
      'config_hmac needs a key of at least 16 bytes (deriveKey(helmKey, "config-hmac"))',
    );
  }
  let canonical: string;
  try {
    canonical = canonicalJson(configFingerprint(inspect));
  } catch (err) {
    if (!(err instanceof CanonicalJsonError)) throw err;
    const id = typeof inspect.Id === 'string' ? inspect.Id.slice(0, 12) : 'without an id';
    throw new ConfigHmacError(`cannot compute config_hmac of container ${id}: ${err.message}`);
  }
  return createHmac('sha256', key).update(canonical, 'utf8').digest('hex');
}
