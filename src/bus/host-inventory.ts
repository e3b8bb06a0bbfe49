import type { Redis } from 'ioredis';
import { z } from 'zod';
import { helmKey } from './queue-names.js';

/**
 * What each host holds, as every Helm on the bus reads it (issue 13, contract 1.5 decision 94): each
 * host's monitor (monitor/inventory-publisher.ts) writes its services to `<prefix>:helm:inventory:<host>`
 * with a TTL it keeps refreshing, and adds its host id to the set `<prefix>:helm:inventory-hosts`. A host
 * in the set whose key has expired is silent: its monitor stopped refreshing (the host is down, or
 * cannot reach Redis). The set is never trimmed by Helm: a host once seen stays known until the owner
 * removes it, so that going dark is noticed, never forgotten.
 */
const InventoryServiceSchema = z.object({
  service: z.string(),
  /** The strongest real environment among its containers (production > staging > dev). */
  environment: z.enum(['production', 'staging', 'dev']),
  /** The release its running containers carry (helm.release), or null when none does. */
  release: z.string().nullable(),
  containers: z.number(),
  running: z.number(),
  /** Every running container healthy, and at least one running. */
  healthy: z.boolean(),
});

const HostInventorySchema = z.object({
  host: z.string(),
  /** When the monitor wrote this (it rewrites it at least every refresh_ms). */
  at: z.string(),
  refresh_ms: z.number(),
  services: z.array(InventoryServiceSchema),
  /** More containers than one status read keeps (64 KiB): the services listed are the first ones. */
  truncated: z.boolean(),
});

export type InventoryService = z.infer<typeof InventoryServiceSchema>;
export type HostInventory = z.infer<typeof HostInventorySchema>;

export function inventoryKey(prefix: string, host: string): string {
  return helmKey(prefix, 'inventory', host);
}

export function inventoryHostsKey(prefix: string): string {
  return helmKey(prefix, 'inventory-hosts');
}

/** A monitor's write port: its host's whole inventory, kept for ttlMs unless written again. */
export interface InventoryWriter {
  write(inventory: HostInventory, ttlMs: number): Promise<void>;
}

/** Every host known on the bus: the live ones' inventories, and the silent ones' ids (sorted). */
export interface InventoryReader {
  read(): Promise<{ live: HostInventory[]; silent: string[] }>;
}

export function makeInventoryWriter(redis: Pick<Redis, 'multi'>, prefix: string): InventoryWriter {
  return {
    async write(inventory, ttlMs) {
      await redis
        .multi()
        .set(
          inventoryKey(prefix, inventory.host),
          JSON.stringify(inventory),
          'PX',
          Math.max(1, Math.round(ttlMs)),
        )
        .sadd(inventoryHostsKey(prefix), inventory.host)
        .exec();
    },
  };
}

export function makeInventoryReader(
  redis: Pick<Redis, 'smembers' | 'mget'>,
  prefix: string,
): InventoryReader {
  return {
    async read() {
      const hosts = (await redis.smembers(inventoryHostsKey(prefix))).sort();
      if (hosts.length === 0) return { live: [], silent: [] };
      const raws = await redis.mget(...hosts.map((h) => inventoryKey(prefix, h)));
      const live: HostInventory[] = [];
      const silent: string[] = [];
      hosts.forEach((host, i) => {
        const raw = raws[i];
        if (raw === null || raw === undefined) {
          silent.push(host);
          return;
        }
        const parsed = HostInventorySchema.safeParse(JSON.parse(raw));
        if (!parsed.success)
          throw new Error(`host ${host}'s inventory in Redis is not readable: ${parsed.error.message}`);
        live.push(parsed.data);
      });
      return { live, silent };
    },
  };
}

/**
 * One `host_down` incident per host on the whole bus, whichever hosts' monitors notice it (decision
 * 95): the first to claim `<prefix>:helm:host-down:<host>` sends host_down, and the one whose GETDEL
 * returns the key sends `recovered` with the same dedup_key. The key has no TTL: a host that never
 * comes back stays down until it does.
 */
export interface HostDownClaims {
  /** True for the one caller that opened the incident with this dedup_key. */
  claim(host: string, dedupKey: string): Promise<boolean>;
  /** The open incident's dedup_key for the one caller that closes it, else null. */
  release(host: string): Promise<string | null>;
}

export function makeHostDownClaims(redis: Pick<Redis, 'set' | 'getdel'>, prefix: string): HostDownClaims {
  const key = (host: string) => helmKey(prefix, 'host-down', host);
  return {
    async claim(host, dedupKey) {
      return (await redis.set(key(host), dedupKey, 'NX')) === 'OK';
    },
    release: (host) => redis.getdel(key(host)),
  };
}
