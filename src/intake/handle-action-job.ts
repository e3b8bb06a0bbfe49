import { type BusJob as Job, isBullmqControlFlow, waitsFor } from '../bus/job-control-flow.js';
import { isSafeRead } from '../actions/registry.js';
import type { ActionResult } from '../contracts/index.js';
import { logRequestEvent } from '../results/publish-status.js';
import { failedResult, type ResultSubject, subjectFromRawData } from '../results/result-builder.js';
import { describeError, finish } from './finish.js';
import { handToGate } from './hand-to-gate.js';
import type { IntakeDeps } from './intake-deps.js';
import { refuseMalformed } from './refuse-malformed.js';
import { enforceRequestId } from './request-id.js';
import { runSafeRead } from './safe-read.js';

export type { IntakeDeps } from './intake-deps.js';

/**
 * The first stop of every job on helm.actions: refuse what is malformed (never retried, never
 * executed), enforce request_id, then run what this Helm may run. It never throws: every path ends
 * in a final ActionResult that is logged, published as progress, alerted and returned.
 */
export function makeActionJobHandler(deps: IntakeDeps) {
  return async function handleActionJob(job: Job, token?: string): Promise<ActionResult> {
    const jobId = String(job.id);
    const started = performance.now();
    let subject = subjectFromRawData(job.data, jobId);
    // One child logger per job; action and target as submitted (echoed safely, even when invalid).
    const log = deps.logger.child({
      queue: job.queueName,
      job_id: jobId,
      action: subject.action,
      target: subject.target,
    });
    try {
      const result = await takeRequest(deps, job, token, jobId, (s) => {
        subject = s;
      });
      log.info(
        { status: result.status, code: result.error?.code, ...durations(deps, job, started) },
        'request ended',
      );
      return result;
    } catch (err) {
      // Parking (delayed) and waiting for the executor (waiting-children) are not failures: the job
      // leaves the worker and comes back. BullMQ needs to see these errors.
      if (isBullmqControlFlow(err)) {
        log.debug(
          { handler_ms: durations(deps, job, started).handler_ms, waits_for: waitsFor(err) },
          'request left the worker to wait',
        );
        throw err;
      }
      // A bug or an outage mid-request: still a final result, never an exception out of the worker.
      log.error({ failure: true, err, ...durations(deps, job, started) }, 'request failed unexpectedly');
      const why = `Helm failed while handling the request: ${describeError(err)}`;
      return finish(deps, job, failedResult(subject, deps.clock.now(), 'internal', why));
    }
  };
}

/**
 * Intake's path, in order: refuse what is malformed; resume a request the gate already holds;
 * enforce request_id; log its arrival; then a change goes to the gate and a safe read runs here.
 */
async function takeRequest(
  deps: IntakeDeps,
  job: Job,
  token: string | undefined,
  jobId: string,
  setSubject: (s: ResultSubject) => void,
): Promise<ActionResult> {
  const admitted = await refuseMalformed(deps, job, jobId);
  if ('result' in admitted) return admitted.result;
  const { request } = admitted;
  const subject: ResultSubject = {
    action: request.action,
    target: request.target,
    environment: request.environment,
    request_id: request.request_id ?? null,
    job_id: jobId,
  };
  setSubject(subject);

  // A request the gate parked or handed to an executor comes back here: carry on where it stood.
  const state = deps.gate ? await deps.gate.stateOf(jobId) : null;
  if (state && deps.gate) return deps.gate.resume(job, token, request, subject, state);

  const answered = await enforceRequestId(deps, job, request, subject);
  if (answered) return answered;
  const received = await logRequestEvent(deps, 'received', subject, request.reason);

  // Fail closed first for changes: one that cannot be logged is not made (reads go on, unlogged and alerted).
  if (!isSafeRead(request.action)) return handToGate(deps, job, token, request, subject, received);
  return runSafeRead(deps, job, request, subject);
}

/**
 * `duration_ms`: the request, from its arrival on helm.actions (the job's timestamp) to its final
 * result, however often it left the worker meanwhile (parked for Warden, waiting for the executor).
 * `handler_ms`: only this last pass through the handler.
 */
function durations(
  deps: IntakeDeps,
  job: Job,
  handlerStarted: number,
): { duration_ms: number; handler_ms: number } {
  return {
    duration_ms: Math.max(0, deps.clock.now().getTime() - job.timestamp),
    handler_ms: Math.round(performance.now() - handlerStarted),
  };
}
