import type { Job } from 'bullmq';
import type { ActionRequest, ActionResult } from '../contracts/index.js';
import type { ResultSubject } from '../results/result-builder.js';
import type { GateDeps } from './gate-deps.js';
import type { RequestState } from './request-state.js';
import { resumeRequest } from './resume-request.js';
import { startRequest } from './start-request.js';

export type { GateDeps } from './gate-deps.js';

/**
 * The gate: every request that would change something passes here. It looks at the target, builds
 * the plan exactly as CONTRACT.md defines it, asks the policy, and then runs it (auto), refuses it
 * (deny), or parks it for Warden without holding a worker slot (a delayed job that wakes on a
 * decision or at its deadline). Execution is handed to an executor as a child job; the request's job
 * waits for it without holding a slot either.
 *
 * Read the path in this order: start-request.ts (look → decide), refuse-before-planning.ts,
 * park-for-warden.ts, hand-to-executor.ts; a job that comes back: resume-request.ts. Decisions from
 * Warden arrive in handle-decision.ts, which wakes the parked job.
 */
export interface Gate {
  handles(action: string): boolean;
  stateOf(jobId: string): Promise<RequestState | null>;
  start(
    job: Job,
    token: string | undefined,
    request: ActionRequest,
    subject: ResultSubject,
  ): Promise<ActionResult>;
  resume(
    job: Job,
    token: string | undefined,
    request: ActionRequest,
    subject: ResultSubject,
    state: RequestState,
  ): Promise<ActionResult>;
}

export function makeGate(deps: GateDeps): Gate {
  return {
    handles: (action) => deps.executorActions.has(action),
    stateOf: (jobId) => deps.states.get(jobId),
    start: (job, token, request, subject) => startRequest(deps, { job, token, request, subject }),
    resume: (job, token, request, subject, state) =>
      resumeRequest(deps, { job, token, request, subject }, state),
  };
}
