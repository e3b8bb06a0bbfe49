import { parseJsonWithoutDuplicateKeys } from '../approval/json-text.js';
import type { BusJob as Job } from '../bus/job-control-flow.js';
import {
  type ActionRequest,
  type ActionResult,
  invalidRequestResult,
  parseActionRequest,
} from '../contracts/index.js';
import { failedResult, subjectFromRawData } from '../results/result-builder.js';
import { logRequestEvent } from '../results/publish-status.js';
import { finish } from './finish.js';
import type { IntakeDeps } from './intake-deps.js';

/**
 * Intake's first step: a job that is not a well-formed request on its own is refused (never retried,
 * never executed), and one whose worker keeps dying is ended. Otherwise its parsed request goes on.
 */
export async function refuseMalformed(
  deps: IntakeDeps,
  job: Job,
  jobId: string,
): Promise<{ request: ActionRequest } | { result: ActionResult }> {
  const raw = subjectFromRawData(job.data, jobId);
  const refuse = async (problems: string[]) => {
    await logRequestEvent(deps, 'received', raw, `job ${job.name}`);
    const result = invalidRequestResult({
      data: job.data,
      jobId,
      problems,
      at: deps.clock.now().toISOString(),
      logged: false,
    });
    return { result: await finish(deps, job, result, 'rejected') };
  };

  // A job inside someone else's flow would let its parent's fate decide this request's: refused.
  if (job.parentKey || job.opts.parent) {
    return refuse(['a job added with a parent (a BullMQ flow) is refused: send the request on its own']);
  }
  // Helm's own limit: BullMQ's stalled limit is set so high it never fails a job by itself, so a
  // request whose worker keeps dying is ended here. (Parking and waiting for the executor bring a
  // job back on purpose; only stalls count.)
  if (job.stalledCounter >= deps.config.maxAttempts) {
    const why = `processing of this request was interrupted ${job.stalledCounter} times without finishing; Helm gave up`;
    return { result: await finish(deps, job, failedResult(raw, deps.clock.now(), 'internal', why)) };
  }
  const repeated = await repeatedKeyProblem(deps, job);
  if (repeated) return refuse([repeated]);
  const parsed = parseActionRequest(job.data);
  if (!parsed.ok) return refuse(parsed.problems);
  return { request: parsed.request };
}

/**
 * A request whose stored text repeats a key is ambiguous (BullMQ's JSON.parse keeps the last copy,
 * another agent reading the bus may keep the first), so it is refused like any malformed request.
 * A job whose hash is already gone is judged on what BullMQ delivered.
 */
async function repeatedKeyProblem(deps: IntakeDeps, job: Job): Promise<string | null> {
  const text = await deps.jobDataText(job);
  if (text === null) return null;
  try {
    parseJsonWithoutDuplicateKeys(text);
    return null;
  } catch (err) {
    return `job data as stored is refused (${(err as Error).message}): JSON readers disagree on which copy of a repeated key counts; send each key once`;
  }
}
