import { createHmac } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger.js';

/**
 * The gate MACs each helm.exec job under Helm's internal-job key and an executor checks it, so every
 * gate and executor on one bus must hold the same key (the memory folder's helm.key). Until several
 * hosts are designed, a gate or executor publishes a fingerprint of that key (an HMAC of a fixed
 * text under it, never the key) while it lives, and one whose key differs from a live process's is
 * refused at start-up: otherwise each would refuse the other's jobs as forged.
 */
export interface KeyClaim {
  instance: string;
  host: string;
  pid: number;
  memory_dir: string;
  fingerprint: string;
}

export function internalKeyFingerprint(internalKey: Buffer): string {
  return createHmac('sha256', internalKey)
    .update('helm:internal-job-key-fingerprint')
    .digest('hex')
    .slice(0, 32);
}

function claimKeys(prefix: string) {
  return { index: `${prefix}:helm:internal-key`, each: `${prefix}:helm:internal-key:` };
}

// Atomic, so that two processes starting together with different keys cannot both get in. A claim
// whose key has expired is a process that is gone: it is dropped from the index.
const CLAIM_SCRIPT = `
for _, other in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local v = redis.call('GET', ARGV[1] .. other)
  if not v then
    redis.call('SREM', KEYS[1], other)
  elseif other ~= ARGV[2] then
    local ok, claim = pcall(cjson.decode, v)
    if not ok or type(claim) ~= 'table' or claim.fingerprint ~= ARGV[3] then return v end
  end
end
redis.call('SADD', KEYS[1], ARGV[2])
redis.call('SET', ARGV[1] .. ARGV[2], ARGV[4], 'PX', ARGV[5])
return false
`;

/** Live claims (their keys not expired) whose fingerprint is not `fingerprint`. */
export async function differingClaims(
  redis: Redis,
  prefix: string,
  fingerprint: string,
): Promise<KeyClaim[]> {
  const keys = claimKeys(prefix);
  const members = await redis.smembers(keys.index);
  if (members.length === 0) return [];
  const values = await redis.mget(members.map((m) => keys.each + m));
  return values.flatMap((v) => {
    const claim = v ? parseClaim(v) : null;
    return claim && claim.fingerprint !== fingerprint ? [claim] : [];
  });
}

/** The plain-words refusal: who holds another key, and exactly how to give both the same one. */
export function describeKeyConflict(mine: KeyClaim, other: KeyClaim): string {
  return (
    `Helm process ${other.instance} (pid ${other.pid} on ${other.host}, memory folder ${other.memory_dir}) ` +
    `serves this bus with another internal-job key than this process (${mine.instance}, memory folder ` +
    `${mine.memory_dir}): each would refuse the other's helm.exec jobs. Every gate and executor on one bus ` +
    `must share one key: copy helm.key from ${other.memory_dir} on ${other.host} into ${mine.memory_dir} ` +
    `(the HELM_MEMORY_DIR of ${mine.instance}; keep it mode 0600), or point that HELM_MEMORY_DIR at a folder ` +
    `that holds the same helm.key, then start ${mine.instance} again`
  );
}

export class KeyConflictError extends Error {
  constructor(
    readonly other: KeyClaim,
    message: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

export interface InternalKeyClaimOptions {
  redis: Redis;
  prefix: string;
  claim: KeyClaim;
  /** How often the claim is refreshed; it lives three times as long (as the heartbeat does). */
  intervalMs: number;
  logger: Logger;
}

/**
 * Claims the bus for this process's key, or throws KeyConflictError naming the live process that
 * holds another one. The claim is refreshed until stop().
 */
export async function claimInternalKey(o: InternalKeyClaimOptions): Promise<{ stop(): Promise<void> }> {
  const keys = claimKeys(o.prefix);
  const ttlMs = o.intervalMs * 3;
  const value = JSON.stringify(o.claim);
  const conflict = (await o.redis.eval(
    CLAIM_SCRIPT,
    1,
    keys.index,
    keys.each,
    o.claim.instance,
    o.claim.fingerprint,
    value,
    String(ttlMs),
  )) as string | null;
  if (conflict) {
    const other = parseClaim(conflict) ?? {
      instance: 'unknown',
      host: 'unknown',
      pid: 0,
      memory_dir: 'unknown',
      fingerprint: '',
    };
    throw new KeyConflictError(other, describeKeyConflict(o.claim, other));
  }
  const refresh = () =>
    o.redis
      .multi()
      .sadd(keys.index, o.claim.instance)
      .set(keys.each + o.claim.instance, value, 'PX', ttlMs)
      .exec()
      .catch((err) => o.logger.warn({ err }, 'the internal-key claim could not be refreshed'));
  const timer = setInterval(refresh, o.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await o.redis
        .multi()
        .srem(keys.index, o.claim.instance)
        .del(keys.each + o.claim.instance)
        .exec()
        .catch(() => undefined);
    },
  };
}

function parseClaim(text: string): KeyClaim | null {
  try {
    const c = JSON.parse(text) as Partial<KeyClaim>;
    return typeof c.instance === 'string' && typeof c.fingerprint === 'string' ? (c as KeyClaim) : null;
  } catch {
    return null;
  }
}
