import type { Job } from 'bullmq';
import {
  answerPlainRequest,
  invalidPlainRequestAnswer,
  type PlainRequestDeps,
} from '../src/advisor/plain-request.js';
import { type PlainRequestAnswer, PlainRequestSchema, parseJobData } from '../src/contracts/index.js';

/**
 * The handler of helm.requests (contract 1.2): job data a PlainRequest, return value its answer. Job
 * data that is not one is answered with a question naming what is wrong (never a failed job: the
 * answer is the return value, as on helm.actions). Start it with startWorker(config,
 * PLAIN_REQUEST_QUEUE, makePlainRequestHandler(deps), …); the derived requests go to helm.actions
 * through deps.submit, so they meet intake and the gate like any request.
 */
export function makePlainRequestHandler(
  deps: PlainRequestDeps,
): (job: Pick<Job, 'id' | 'data'>) => Promise<PlainRequestAnswer> {
  return async (job) => {
    const parsed = parseJobData(PlainRequestSchema, job.data);
    if (!parsed.ok) return invalidPlainRequestAnswer(parsed.problems, deps.now());
    return answerPlainRequest(deps, parsed.value, String(job.id ?? 'unknown'));
  };
}
