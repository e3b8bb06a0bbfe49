import { parseJsonWithoutDuplicateKeys } from '../approval/json-text.js';
import type { JobDataText } from '../bus/job-data-text.js';
import { type BusJob as Job, isBullmqControlFlow, waitsFor } from '../bus/job-control-flow.js';
import type { Clock } from '../base/clock.js';
import type { Config } from '../config/config.js';
import {
  type ActionRequest,
  type ActionResult,
  hashCanonical,
  invalidRequestResult,
  parseActionRequest,
} from '../contracts/index.js';
import type { ActionOutcome } from '../actions/action-types.js';
import { isSafeRead, SAFE_READS } from '../actions/registry.js';
import { DockerNotFoundError, DockerUnavailableError } from '../docker/docker-errors.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { resolveTarget } from '../docker/target-resolution.js';
import {
  failedResult,
  resultWithStatus,
  type ResultSubject,
  subjectFromRawData,
} from '../results/result-builder.js';
import { logRequestEvent, publishStatus, type StatusSinks } from '../results/publish-status.js';
import type { Gate } from '../gate/gate.js';
import { observeTarget } from '../observe/observe-target.js';
import { decide, type Policy } from '../policy/policy.js';

/**
 * The first stop of every job on helm.actions: refuse what is malformed (never retried, never
 * executed), enforce request_id, then run what this Helm may run. It never throws: every path ends
 * in a final ActionResult that is logged, published as progress, alerted and returned.
 */
export interface IntakeDeps extends StatusSinks {
  config: Pick<Config, 'maxAttempts'>;
  clock: Clock;
  docker: DockerReads;
  /** The job's stored JSON text (bus/job-data-text.ts), checked for a repeated key. */
  jobDataText: JobDataText;
  /** The gate, for actions that change something; without it they are answered unavailable. */
  gate?: Gate;
  /** The owner's policy: reads consult it only for deny rules that name them. */
  policy?: () => Policy;
}

/** A safe read that takes longer than this is ended as failed (timeout). */
export const READ_TIMEOUT_MS = 60_000;

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
      const result = await run(job, token, jobId, (s) => {
        subject = s;
      });
      log.info(
        {
          status: result.status,
          code: result.error?.code,
          ...durations(job, started),
        },
        'request ended',
      );
      return result;
    } catch (err) {
      // Parking (delayed) and waiting for the executor (waiting-children) are not failures: the job
      // leaves the worker and comes back. BullMQ needs to see these errors.
      if (isBullmqControlFlow(err)) {
        log.debug(
          { handler_ms: durations(job, started).handler_ms, waits_for: waitsFor(err) },
          'request left the worker to wait',
        );
        throw err;
      }
      // A bug or an outage mid-request: still a final result, never an exception out of the worker.
      log.error({ failure: true, err, ...durations(job, started) }, 'request failed unexpectedly');
      return finish(
        job,
        failedResult(
          subject,
          deps.clock.now(),
          'internal',
          `Helm failed while handling the request: ${describeError(err)}`,
        ),
      );
    }
  };

  /**
   * `duration_ms`: the request, from its arrival on helm.actions (the job's timestamp) to its final
   * result, however often it left the worker meanwhile (parked for Warden, waiting for the executor).
   * `handler_ms`: only this last pass through the handler.
   */
  function durations(job: Job, handlerStarted: number): { duration_ms: number; handler_ms: number } {
    return {
      duration_ms: Math.max(0, deps.clock.now().getTime() - job.timestamp),
      handler_ms: Math.round(performance.now() - handlerStarted),
    };
  }

  async function run(
    job: Job,
    token: string | undefined,
    jobId: string,
    setSubject: (s: ResultSubject) => void,
  ): Promise<ActionResult> {
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
      return finish(job, result, 'rejected');
    };

    // A job inside someone else's flow would let its parent's fate decide this request's: refused.
    if (job.parentKey || job.opts.parent) {
      return refuse(['a job added with a parent (a BullMQ flow) is refused: send the request on its own']);
    }
    // Helm's own limit: BullMQ's stalled limit is set so high it never fails a job by itself, so a
    // request whose worker keeps dying is ended here. (Parking and waiting for the executor bring a
    // job back on purpose; only stalls count.)
    if (job.stalledCounter >= deps.config.maxAttempts) {
      return finish(
        job,
        failedResult(
          raw,
          deps.clock.now(),
          'internal',
          `processing of this request was interrupted ${job.stalledCounter} times without finishing; Helm gave up`,
        ),
      );
    }
    const repeated = await repeatedKeyProblem(job);
    if (repeated) return refuse([repeated]);
    const parsed = parseActionRequest(job.data);
    if (!parsed.ok) return refuse(parsed.problems);

    const request = parsed.request;
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

    if (request.request_id) {
      const reservation = await deps.records.reserve(request.request_id, hashCanonical(request), jobId);
      if (reservation.kind === 'duplicate')
        return answerDuplicate(job, subject, reservation.originalJobId, reservation.currentResult);
      if (reservation.kind === 'conflict') {
        await logRequestEvent(deps, 'received', subject, request.reason);
        return finish(
          job,
          failedResult(
            subject,
            deps.clock.now(),
            'request_id_conflict',
            `request_id ${request.request_id} already names a different request (job ${reservation.originalJobId}); use a new request_id`,
          ),
          'rejected',
        );
      }
    }
    const received = await logRequestEvent(deps, 'received', subject, request.reason);

    if (!isSafeRead(request.action)) {
      // Fail closed first: a change that cannot be logged is not made (reads go on, unlogged and alerted).
      if (!received) {
        const why = `Helm cannot write its run log (${deps.runLog.status().reason ?? 'write failed'}), and it changes nothing it cannot log; nothing was changed`;
        return finish(job, failedResult(subject, deps.clock.now(), 'unavailable', why));
      }
      if (deps.gate?.handles(request.action)) return deps.gate.start(job, token, request, subject);
      const why = `${request.action} is not available yet in this Helm version; nothing was changed`;
      return finish(job, failedResult(subject, deps.clock.now(), 'unavailable', why));
    }
    return runSafeRead(job, request, subject);
  }

  /**
   * A request whose stored text repeats a key is ambiguous (BullMQ's JSON.parse keeps the last copy,
   * another agent reading the bus may keep the first), so it is refused like any malformed request.
   * A job whose hash is already gone is judged on what BullMQ delivered.
   */
  async function repeatedKeyProblem(job: Job): Promise<string | null> {
    const text = await deps.jobDataText(job);
    if (text === null) return null;
    try {
      parseJsonWithoutDuplicateKeys(text);
      return null;
    } catch (err) {
      return `job data as stored is refused (${(err as Error).message}): JSON readers disagree on which copy of a repeated key counts; send each key once`;
    }
  }

  async function runSafeRead(
    job: Job,
    request: ActionRequest,
    subject: ResultSubject,
  ): Promise<ActionResult> {
    let containers: Awaited<ReturnType<DockerReads['listContainers']>>;
    try {
      containers = await deps.docker.listContainers();
    } catch (err) {
      return finish(job, failedResult(subject, deps.clock.now(), 'docker_error', describeError(err)));
    }
    const resolved = resolveTarget(request.target, containers);
    if (!resolved.ok) {
      return finish(
        job,
        failedResult(subject, deps.clock.now(), resolved.code, resolved.message, {
          ...(resolved.candidates.length > 0 ? { data: { candidates: resolved.candidates } } : {}),
        }),
      );
    }
    // Reads need no approval anywhere, but the owner may deny one outright (say, logs in
    // production): only then is the real environment worth a look.
    const policy = deps.policy?.();
    if (policy?.deny.some((r) => r.actions !== '*' && r.actions.includes(request.action as never))) {
      const seen = await observeTarget(deps.docker, request.target, policy.classify);
      const environment = seen.ok ? seen.environment : 'production';
      const verdict = decide({ action: request.action, environment, direction: null }, policy);
      if (verdict.decision === 'deny') {
        return finish(job, failedResult(subject, deps.clock.now(), 'denied', verdict.reason));
      }
    }
    // Record the policy decision as the request's first status.
    await publishStatus(
      deps,
      job,
      resultWithStatus(
        subject,
        deps.clock.now(),
        'approved',
        `${request.action} is a safe read: no approval needed; running`,
      ),
      { event: 'executing', final: false },
    );
    const handler = SAFE_READS[request.action]!;
    const outcome: ActionOutcome = await withTimeout(
      handler({
        request,
        service: resolved.service,
        docker: deps.docker,
        clock: deps.clock,
        redactor: deps.redactor,
        logger: deps.logger,
      }),
      READ_TIMEOUT_MS,
    ).catch(
      (err: unknown): ActionOutcome => ({ ok: false, code: errorCode(err), message: describeError(err) }),
    );
    const at = deps.clock.now();
    return finish(
      job,
      outcome.ok
        ? resultWithStatus(
            subject,
            at,
            'executed',
            outcome.outcome,
            outcome.data ? { data: outcome.data } : {},
          )
        : failedResult(
            subject,
            at,
            outcome.code,
            outcome.message,
            outcome.data ? { data: outcome.data } : {},
          ),
    );
  }

  async function answerDuplicate(
    job: Job,
    subject: ResultSubject,
    originalJobId: string,
    current: string | null,
  ): Promise<ActionResult> {
    await logRequestEvent(
      deps,
      'duplicate',
      subject,
      `same request as job ${originalJobId}: not executed again`,
    );
    // The original's latest result as it stands (possibly not final yet: the one case the contract
    // allows), naming the job to follow for the outcome.
    const original = current
      ? (JSON.parse(current) as ActionResult)
      : resultWithStatus(
          subject,
          deps.clock.now(),
          'approved',
          `received; follow job ${originalJobId} for the outcome`,
        );
    const result = { ...original, job_id: subject.job_id, duplicate_of: originalJobId } as ActionResult;
    await job.updateProgress(result);
    return result;
  }

  function finish(
    job: Job,
    result: ActionResult,
    event: 'rejected' | 'executed' | 'failed' = result.status === 'executed' ? 'executed' : 'failed',
  ) {
    return publishStatus(deps, job, result, { event, final: true });
  }
}

function errorCode(err: unknown): string {
  if (err instanceof TimeoutError) return 'timeout';
  if (err instanceof DockerUnavailableError) return 'docker_error';
  if (err instanceof DockerNotFoundError) return 'docker_error';
  return 'internal';
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

class TimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer within ${Math.round(ms / 1000)} s`);
    this.name = this.constructor.name;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(ms)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
