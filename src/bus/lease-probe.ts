import type { Redis } from 'ioredis';
import { helmKey } from './queue-names.js';

/**
 * The Redis side of the monitor's `leaseHeld` (monitor/intended.ts): whether the executor holds its
 * lease on a service. The lease key is the executor's (src/executor/lease.ts: `<host>/<service>`,
 * host "local").
 */
export function makeLeaseProbe(redis: Pick<Redis, 'exists'>, prefix: string, host = 'local') {
  return async (service: string): Promise<boolean> =>
    (await redis.exists(helmKey(prefix, 'lease', `${host}/${service}`))) === 1;
}
