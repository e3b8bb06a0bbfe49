import type { Redis } from 'ioredis';
import {
  claimInternalKey,
  describeKeyConflict,
  differingClaims,
  internalKeyFingerprint,
  type KeyClaim,
  KeyConflictError,
} from '../bus/internal-key-claim.js';
import type { AlertSender } from '../bus/alert-sender.js';
import type { Config } from '../config/config.js';
import { makeWardenKeys, type WardenKeys } from '../gate/warden-keys.js';
import { deriveKey, loadOrCreateHelmKey } from '../keys/helm-key.js';
import type { Logger } from '../log/logger.js';
import type { HelmKeys, HelmParts } from './parts.js';
import { StartupError } from './startup-error.js';

/** Helm's key (made on first start) and the keys derived from it. */
export async function loadHelmKeys(config: Readonly<Config>): Promise<HelmKeys> {
  const helm = await loadOrCreateHelmKey(config.memoryDir);
  return {
    helm,
    internal: deriveKey(helm, 'internal-job'),
    runLog: deriveKey(helm, 'run-log'),
    config: deriveKey(helm, 'config-hmac'),
    secret: deriveKey(helm, 'secret-hmac'),
  };
}

/**
 * A gate or an executor claims its internal-job key on the bus, before any worker takes a job and
 * before anything is written under this key (the run log): a gate and an executor with different keys
 * refuse each other's work, and the owner's fix is to replace this process's helm.key. Returns what
 * explains a job whose MAC fails while a live process holds another key: Helm's misconfiguration, no
 * attack.
 */
export async function claimKeyOnTheBus(
  config: Readonly<Config>,
  deps: { redis: Redis; internalKey: Buffer; logger: Logger; onClose: HelmParts['onClose'] },
): Promise<() => Promise<string | null>> {
  const { redis, logger } = deps;
  const claim: KeyClaim = {
    instance: config.instance,
    host: config.host,
    pid: process.pid,
    memory_dir: config.memoryDir,
    fingerprint: internalKeyFingerprint(deps.internalKey),
  };
  if (config.workers.includes('gate') || config.workers.includes('executor')) {
    const claimed = await claimInternalKey({
      redis,
      prefix: config.queuePrefix,
      claim,
      intervalMs: config.heartbeatIntervalMs,
      logger,
    }).catch((err) => {
      if (err instanceof KeyConflictError) throw new StartupError([err.message]);
      throw err;
    });
    deps.onClose(() => claimed.stop());
  }
  return async () => {
    const other = (await differingClaims(redis, config.queuePrefix, claim.fingerprint))[0];
    return other ? describeKeyConflict(claim, other) : null;
  };
}

/** Warden's public keys (reloaded on SIGHUP); a key file that cannot be used stops start-up, a later one alerts. */
export function openWardenKeys(
  config: Readonly<Config>,
  deps: { logger: Logger; alerts: Pick<AlertSender, 'send'>; onClose: HelmParts['onClose'] },
): WardenKeys {
  let wardenKeys: WardenKeys;
  try {
    wardenKeys = makeWardenKeys(
      config,
      deps.logger,
      (message) =>
        void deps.alerts.send({
          severity: 'critical',
          kind: 'helm_degraded',
          message,
          dedup_key: 'helm_degraded:warden_keys',
        }),
    );
  } catch (err) {
    throw new StartupError([`Warden's public keys: ${(err as Error).message}`]);
  }
  deps.onClose(() => wardenKeys.close());
  return wardenKeys;
}
