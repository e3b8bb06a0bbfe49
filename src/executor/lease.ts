import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { helmKey } from '../bus/queue-names.js';

/**
 * One operation per service at a time, in order. Each service (host + service) has a ticket line in
 * Redis: an exec job takes a ticket when it first asks, and only the head of the line may take the
 * lease. The lease has a token and a TTL, is renewed while the job runs, and is checked before every
 * Docker change; a crashed holder's lease expires, and a ticket whose job stopped asking is dropped.
 */
export interface Lease {
  readonly token: string;
  /** Throws LeaseLostError unless this lease is still held. */
  check(): Promise<void>;
  release(): Promise<void>;
}

export class LeaseLostError extends Error {
  constructor(service: string) {
    super(`the lease on ${service} was lost; the change stopped before its next step`);
    this.name = this.constructor.name;
  }
}

export interface LeaseManager {
  /** The lease, or null when another job holds it or is ahead in the line (ask again later). */
  tryAcquire(service: string, jobId: string): Promise<Lease | null>;
}

const ACQUIRE = `
local line, lease, ticket = KEYS[1], KEYS[2], KEYS[3]
local job, token, ttl, ticketTtl, ticketPrefix = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
if not redis.call('LPOS', line, job) then redis.call('RPUSH', line, job) end
redis.call('SET', ticket, '1', 'PX', ticketTtl)
-- Drop tickets at the head whose jobs stopped asking (crashed before they got the lease).
while true do
  local head = redis.call('LINDEX', line, 0)
  if not head or head == job then break end
  if redis.call('EXISTS', ticketPrefix .. head) == 1 or redis.call('EXISTS', lease) == 1 then return nil end
  redis.call('LPOP', line)
end
if redis.call('SET', lease, token, 'NX', 'PX', ttl) then return token end
return nil
`;

const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('LREM', KEYS[2], 0, ARGV[2])
redis.call('DEL', KEYS[3])
return 1
`;

export function makeLeaseManager(redis: Redis, prefix: string, ttlMs = 30_000): LeaseManager {
  const keys = (service: string, jobId: string) => ({
    line: helmKey(prefix, 'lease-line', service),
    lease: helmKey(prefix, 'lease', service),
    ticket: helmKey(prefix, 'lease-ticket', service, jobId),
    ticketPrefix: `${helmKey(prefix, 'lease-ticket', service)}:`,
  });
  return {
    async tryAcquire(service, jobId) {
      const k = keys(service, jobId);
      const token = randomUUID();
      const got = await redis.eval(
        ACQUIRE,
        3,
        k.line,
        k.lease,
        k.ticket,
        jobId,
        token,
        String(ttlMs),
        String(ttlMs),
        k.ticketPrefix,
      );
      if (got !== token) return null;
      const renew = setInterval(
        () => {
          void redis.eval(RENEW, 1, k.lease, token, String(ttlMs)).catch(() => undefined);
        },
        Math.max(100, Math.floor(ttlMs / 3)),
      );
      renew.unref();
      return {
        token,
        async check() {
          if ((await redis.get(k.lease)) !== token) throw new LeaseLostError(service);
        },
        async release() {
          clearInterval(renew);
          await redis.eval(RELEASE, 3, k.lease, k.line, k.ticket, token, jobId);
        },
      };
    },
  };
}
