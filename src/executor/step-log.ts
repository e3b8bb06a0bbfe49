import type { ContainerInspect } from '../docker/docker-objects.js';
import { announce, type ExecContext } from './exec-context.js';
import { stopWaitOf, stopWaitText } from '../observe/stop-timeout.js';

/**
 * The steps of a change as the owner sees them in Helm's own log: one info line per step when it
 * ends, with what it took (`duration_ms`), a warning when it fails. Docker changes are announced
 * first (lease and intent, exec-context.ts); an announcement that throws is not a failed step.
 */
export async function changeStep<T>(
  ctx: ExecContext,
  step: string,
  detail: Record<string, unknown>,
  change: () => Promise<T>,
): Promise<T> {
  await announce(ctx, step, detail);
  return (await loggedStep(ctx, step, detail, change)).value;
}

/** Runs one step (a Docker change, a health check, a wait) and logs how long it took. */
export async function loggedStep<T>(
  ctx: Pick<ExecContext, 'logger'>,
  step: string,
  detail: Record<string, unknown>,
  work: () => Promise<T>,
): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  try {
    const value = await work();
    const ms = Math.round(performance.now() - started);
    ctx.logger.info({ step, ...detail, duration_ms: ms }, `step ${step} done`);
    return { value, ms };
  } catch (err) {
    ctx.logger.warn(
      { step, ...detail, duration_ms: Math.round(performance.now() - started), failure: true, err },
      `step ${step} failed`,
    );
    throw err;
  }
}

/** How one container's stop went: the wait it was given (and why), and how long it took. */
export interface StopRecord {
  container: string;
  timeout_s: number;
  /** Where the wait came from: `ghost.stop-timeout` label, the container's StopTimeout, Docker's default. */
  timeout_from: 'label' | 'container' | 'default';
  ms: number;
  /** A `ghost.stop-timeout` label that could not be used, when there was one. */
  problem?: string;
}

/**
 * Stops a container with its own stop wait (stop-timeout.ts), as an announced, logged step. A
 * process that ignores the stop signal is killed when the wait is over, so the wait is the longest
 * this step takes; the record says how long it did take.
 */
export async function stopStep(
  ctx: ExecContext,
  step: string,
  detail: Record<string, unknown> & { replica: string },
  info: ContainerInspect,
): Promise<StopRecord> {
  const wait = stopWaitOf(info);
  const d = { ...detail, timeout_s: wait.seconds, timeout_from: wait.from };
  if (wait.problem) ctx.logger.warn({ step, ...d, failure: true }, ctx.redactor.redact(wait.problem));
  await announce(ctx, step, d);
  ctx.logger.info(
    { step, ...d },
    `step ${step}: waiting up to ${stopWaitText(wait)} for ${detail.replica} to exit before Docker kills it`,
  );
  const { ms } = await loggedStep(ctx, step, d, () => ctx.docker.stopContainer(info.Id, wait.seconds));
  return {
    container: detail.replica,
    timeout_s: wait.seconds,
    timeout_from: wait.from,
    ms,
    ...(wait.problem ? { problem: wait.problem } : {}),
  };
}
