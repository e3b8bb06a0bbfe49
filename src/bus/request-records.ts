import type { Redis } from 'ioredis';
import { helmKey } from './queue-names.js';

/**
 * request_id records (CONTRACT.md "request_id"), kept by Helm itself for a window rather than by
 * BullMQ's job retention: one id names one request on the whole bus. The reservation is one Lua
 * script so that two jobs with the same id racing on two workers get one winner.
 */
export type Reservation =
  | { kind: 'new' }
  /** The same job handed out again (after a stall): carry on with the request. */
  | { kind: 'same_job' }
  | { kind: 'duplicate'; originalJobId: string; currentResult: string | null }
  | { kind: 'conflict'; originalJobId: string };

const RESERVE = `
local existing = redis.call('HMGET', KEYS[1], 'hash', 'job_id', 'result')
if not existing[1] then
  redis.call('HSET', KEYS[1], 'hash', ARGV[1], 'job_id', ARGV[2])
  redis.call('EXPIRE', KEYS[1], ARGV[3])
  return {'new'}
end
if existing[2] == ARGV[2] then return {'same_job'} end
if existing[1] == ARGV[1] then return {'duplicate', existing[2], existing[3] or ''} end
return {'conflict', existing[2]}
`;

// Only an existing record is updated: a result never resurrects an expired reservation.
const UPDATE = `
if redis.call('HGET', KEYS[1], 'job_id') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'result', ARGV[2])
  return 1
end
return 0
`;

export interface RequestRecords {
  reserve(requestId: string, requestHash: string, jobId: string): Promise<Reservation>;
  updateResult(requestId: string, jobId: string, resultJson: string): Promise<void>;
  /** Marks a job's final result as written; false if it already was (by this or another process). */
  markFinal(jobId: string): Promise<boolean>;
  isFinal(jobId: string): Promise<boolean>;
}

export function makeRequestRecords(redis: Redis, prefix: string, windowS: number): RequestRecords {
  const recordKey = (id: string) => helmKey(prefix, 'request', id);
  const finalKey = (jobId: string) => helmKey(prefix, 'final', jobId);
  return {
    async reserve(requestId, requestHash, jobId) {
      const r = (await redis.eval(
        RESERVE,
        1,
        recordKey(requestId),
        requestHash,
        jobId,
        String(windowS),
      )) as string[];
      switch (r[0]) {
        case 'new':
          return { kind: 'new' };
        case 'same_job':
          return { kind: 'same_job' };
        case 'duplicate':
          return { kind: 'duplicate', originalJobId: r[1]!, currentResult: r[2] ? r[2] : null };
        default:
          return { kind: 'conflict', originalJobId: r[1]! };
      }
    },
    async updateResult(requestId, jobId, resultJson) {
      await redis.eval(UPDATE, 1, recordKey(requestId), jobId, resultJson);
    },
    async markFinal(jobId) {
      return (await redis.set(finalKey(jobId), '1', 'EX', windowS, 'NX')) === 'OK';
    },
    async isFinal(jobId) {
      return (await redis.exists(finalKey(jobId))) === 1;
    },
  };
}
