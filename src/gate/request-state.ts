import type { Redis } from 'ioredis';
import { helmKey } from '../bus/queue-names.js';

/**
 * Where a request on helm.actions stands between the times the gate worker holds it: the job leaves
 * the worker while it is parked (delayed) or while an executor runs it (waiting for its child), and
 * comes back; this record says what to do when it does. Kept for the request_id window.
 */
export type RequestStage = 'parked' | 'executing';

export interface RequestState {
  stage: RequestStage;
  approval_id: string | null;
  plan_hash: string | null;
  /** Epoch ms: the parked request's deadline. */
  deadline: number | null;
  exec_job_id: string | null;
}

export interface RequestStateStore {
  get(jobId: string): Promise<RequestState | null>;
  set(jobId: string, state: RequestState): Promise<void>;
}

export function makeRequestStateStore(redis: Redis, prefix: string, keepS: number): RequestStateStore {
  const key = (jobId: string) => helmKey(prefix, 'req-state', jobId);
  return {
    async get(jobId) {
      const text = await redis.get(key(jobId));
      return text ? (JSON.parse(text) as RequestState) : null;
    },
    async set(jobId, state) {
      await redis.set(key(jobId), JSON.stringify(state), 'EX', keepS);
    },
  };
}
