import type { Redis } from 'ioredis';

/**
 * BullMQ's production guide: a Redis that evicts keys loses jobs silently, and one without AOF
 * loses the last seconds of jobs (and parked approvals) on a crash. Helm refuses both unless the
 * owner says this Redis is for development (HELM_ALLOW_VOLATILE_REDIS=1).
 */
export interface RedisDurability {
  maxmemoryPolicy: string | null;
  aofEnabled: boolean | null;
  version: string | null;
}

export type DurabilityVerdict = { ok: true; warnings: string[] } | { ok: false; problems: string[] };

/** Reads INFO rather than CONFIG GET: INFO is allowed for every agent's ACL user, CONFIG is not. */
export async function readRedisDurability(redis: Redis): Promise<RedisDurability> {
  const info = parseInfo(await redis.info());
  const aof = info.get('aof_enabled');
  return {
    maxmemoryPolicy: info.get('maxmemory_policy') ?? null,
    aofEnabled: aof === undefined ? null : aof === '1',
    version: info.get('redis_version') ?? null,
  };
}

export function judgeDurability(d: RedisDurability, allowVolatile: boolean): DurabilityVerdict {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (d.maxmemoryPolicy !== 'noeviction') {
    problems.push(
      `Redis maxmemory-policy is ${d.maxmemoryPolicy ?? 'unknown'}: it must be noeviction, or Redis may evict queued jobs (set maxmemory-policy noeviction)`,
    );
  }
  if (d.aofEnabled !== true) {
    const msg =
      'Redis has AOF persistence off: a Redis crash would lose queued and parked requests (set appendonly yes)';
    if (allowVolatile)
      warnings.push(`${msg}; continuing because HELM_ALLOW_VOLATILE_REDIS=1 (development only)`);
    else problems.push(`${msg}, or set HELM_ALLOW_VOLATILE_REDIS=1 for development`);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, warnings };
}

function parseInfo(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) map.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return map;
}
