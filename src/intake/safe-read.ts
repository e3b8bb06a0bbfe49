import type { ActionOutcome } from '../actions/action-types.js';
import { SAFE_READS } from '../actions/registry.js';
import type { BusJob as Job } from '../bus/job-control-flow.js';
import { ALL_IN_SCOPE, type ActionRequest, type ActionResult } from '../contracts/index.js';
import { DockerNotFoundError, DockerUnavailableError } from '../docker/docker-errors.js';
import type { ContainerSummary, DockerReads } from '../docker/docker-ports.js';
import { servicesInScope } from '../docker/scope.js';
import { type ResolvedService, resolveTarget, type TargetResolution } from '../docker/target-resolution.js';
import { observeTarget } from '../observe/observe-target.js';
import { decide } from '../policy/policy.js';
import { publishStatus } from '../results/publish-status.js';
import { failedResult, type ResultSubject, resultWithStatus } from '../results/result-builder.js';
import { describeError, finish } from './finish.js';
import type { IntakeDeps } from './intake-deps.js';

/** A safe read that takes longer than this is ended as failed (timeout). */
export const READ_TIMEOUT_MS = 60_000;

/**
 * A safe read runs right here, without the gate: find the target, check the owner has not denied
 * this read, say it is running, run it within READ_TIMEOUT_MS, and finish with what it found.
 */
export async function runSafeRead(
  deps: IntakeDeps,
  job: Job,
  request: ActionRequest,
  subject: ResultSubject,
): Promise<ActionResult> {
  let containers: Awaited<ReturnType<DockerReads['listContainers']>>;
  try {
    containers = await deps.docker.listContainers();
  } catch (err) {
    return finish(deps, job, failedResult(subject, deps.clock.now(), 'docker_error', describeError(err)));
  }
  const resolved = resolveRead(deps, request.target, containers);
  if (!resolved.ok) {
    return finish(
      deps,
      job,
      failedResult(subject, deps.clock.now(), resolved.code, resolved.message, {
        ...(resolved.candidates.length > 0 ? { data: { candidates: resolved.candidates } } : {}),
      }),
    );
  }
  const denial = await deniedBecause(deps, request);
  if (denial !== null) return finish(deps, job, failedResult(subject, deps.clock.now(), 'denied', denial));
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
      services: resolved.services,
      docker: deps.docker,
      clock: deps.clock,
      redactor: deps.redactor,
      logger: deps.logger,
      classification: deps.policy?.().classify ?? [],
      ...deps.reads,
    }),
    READ_TIMEOUT_MS,
  ).catch(
    (err: unknown): ActionOutcome => ({ ok: false, code: errorCode(err), message: describeError(err) }),
  );
  const at = deps.clock.now();
  const extra = outcome.data ? { data: outcome.data } : {};
  return finish(
    deps,
    job,
    outcome.ok
      ? resultWithStatus(subject, at, 'executed', outcome.outcome, extra)
      : failedResult(subject, at, outcome.code, outcome.message, extra),
  );
}

/**
 * The services a read names: its target resolved as for every request, or for `*` (status and stats
 * only: the contract allows it nowhere else) every service in scope, under the one name `*`.
 */
function resolveRead(
  deps: IntakeDeps,
  target: string,
  containers: ContainerSummary[],
): TargetResolution & ({ ok: false } | { services: ResolvedService[] }) {
  if (target === ALL_IN_SCOPE) {
    const services = servicesInScope(containers, deps.config.scope);
    const all = services.flatMap((s) => s.containers);
    return {
      ok: true,
      service: { name: ALL_IN_SCOPE, via: 'ghost.service', composeProject: null, containers: all },
      services,
    };
  }
  const resolved = resolveTarget(target, containers);
  return resolved.ok ? { ...resolved, services: [resolved.service] } : resolved;
}

/**
 * Reads need no approval anywhere, but the owner may deny one outright (say, logs in production):
 * only then is the real environment worth a look. The deny reason, or null when the read may run.
 */
async function deniedBecause(deps: IntakeDeps, request: ActionRequest): Promise<string | null> {
  const policy = deps.policy?.();
  if (!policy?.deny.some((r) => r.actions !== '*' && r.actions.includes(request.action as never)))
    return null;
  const seen = await observeTarget(deps.docker, request.target, policy.classify);
  const environment = seen.ok ? seen.environment : 'production';
  const verdict = decide({ action: request.action, environment, direction: null }, policy);
  return verdict.decision === 'deny' ? verdict.reason : null;
}

function errorCode(err: unknown): string {
  if (err instanceof TimeoutError) return 'timeout';
  if (err instanceof DockerUnavailableError) return 'docker_error';
  if (err instanceof DockerNotFoundError) return 'docker_error';
  return 'internal';
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
