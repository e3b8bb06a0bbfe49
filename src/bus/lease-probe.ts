import type { Redis } from 'ioredis';
import { helmKey } from './queue-names.js';

/**
 * The Redis side of the monitor's `leaseHeld` (monitor/intended.ts): whether the executor holds its
 * lease on a service. The lease key is the executor's (src/executor/lease.ts: `<host>/<service>`,
 * the host id of the plan, which is this host's: HELM_HOST_ID).
 */
export function makeLeaseProbe(redis: Pick<Redis, 'exists'>, prefix: string, host: string) {
  return async (service: string): Promise<boolean> =>
    (await redis.exists(helmKey(prefix, 'lease', `${host}/${service}`))) === 1;
}
