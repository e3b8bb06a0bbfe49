import type { Redis } from 'ioredis';
import { helmKey } from '../bus/queue-names.js';
import type { ApprovalRequest } from '../contracts/index.js';

/**
 * Requests parked for Warden, in Redis (AOF): one hash per approval_id. Every end of a parked
 * request (a decision consumed, the deadline, the owner's cancel) is one Lua script, so a decision
 * racing the deadline, or two decisions racing each other, have exactly one winner.
 */
export type ParkedStatus = 'parked' | 'approved' | 'denied' | 'expired' | 'cancelled';

export interface ParkedRecord {
  approval_id: string;
  job_id: string;
  plan_hash: string;
  status: ParkedStatus;
  approval_request: ApprovalRequest;
  /** The consumed decision exactly as received (JSON text), once approved or denied. */
  decision_json: string | null;
  ended_at: string | null;
}

export type ConsumeResult = 'consumed' | 'repeat' | 'ended' | 'plan_mismatch';

const CONSUME = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'ended' end
if status == 'approved' or status == 'denied' then return 'repeat' end
if status ~= 'parked' then return 'ended' end
if redis.call('HGET', KEYS[1], 'plan_hash') ~= ARGV[1] then return 'plan_mismatch' end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'decision_json', ARGV[3], 'ended_at', ARGV[4])
redis.call('SREM', KEYS[2], ARGV[5])
return 'consumed'
`;

const END = `
if redis.call('HGET', KEYS[1], 'status') ~= 'parked' then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'ended_at', ARGV[2])
redis.call('SREM', KEYS[2], ARGV[3])
return 1
`;

export interface ParkedStore {
  park(req: ApprovalRequest, jobId: string, keepMs: number): Promise<void>;
  get(approvalId: string): Promise<ParkedRecord | null>;
  /** The first valid decision wins: atomically marks the request approved or denied. */
  consume(
    approvalId: string,
    planHash: string,
    decision: 'approved' | 'denied',
    decisionJson: string,
    at: Date,
  ): Promise<ConsumeResult>;
  /** Ends a request still parked (deadline or cancel); false if a decision got there first. */
  end(approvalId: string, status: 'expired' | 'cancelled', at: Date): Promise<boolean>;
  listParked(): Promise<ParkedRecord[]>;
}

export function makeParkedStore(redis: Redis, prefix: string): ParkedStore {
  const key = (id: string) => helmKey(prefix, 'parked', id);
  const indexKey = helmKey(prefix, 'parked-index');

  async function get(approvalId: string): Promise<ParkedRecord | null> {
    const h = await redis.hgetall(key(approvalId));
    if (!h.status || !h.approval_request) return null;
    return {
      approval_id: approvalId,
      job_id: h.job_id ?? '',
      plan_hash: h.plan_hash ?? '',
      status: h.status as ParkedStatus,
      approval_request: JSON.parse(h.approval_request) as ApprovalRequest,
      decision_json: h.decision_json ?? null,
      ended_at: h.ended_at ?? null,
    };
  }

  return {
    async park(req, jobId, keepMs) {
      await redis
        .multi()
        .hset(key(req.approval_id), {
          job_id: jobId,
          plan_hash: req.plan_hash,
          status: 'parked',
          approval_request: JSON.stringify(req),
        })
        // Kept past the deadline so that a late or repeated decision is told apart from a forgery.
        .pexpire(key(req.approval_id), keepMs)
        .sadd(indexKey, req.approval_id)
        .exec();
    },
    get,
    async consume(approvalId, planHash, decision, decisionJson, at) {
      return (await redis.eval(
        CONSUME,
        2,
        key(approvalId),
        indexKey,
        planHash,
        decision,
        decisionJson,
        at.toISOString(),
        approvalId,
      )) as ConsumeResult;
    },
    async end(approvalId, status, at) {
      return (
        (await redis.eval(END, 2, key(approvalId), indexKey, status, at.toISOString(), approvalId)) === 1
      );
    },
    async listParked() {
      const ids = await redis.smembers(indexKey);
      const records = await Promise.all(ids.map(get));
      return records.filter((r): r is ParkedRecord => r !== null && r.status === 'parked');
    },
  };
}
