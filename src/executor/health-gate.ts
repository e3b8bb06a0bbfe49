import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { lookAtContainer } from '../health/container-health.js';
import type { ExecContext } from './exec-context.js';

/**
 * The health gate of a started container: its health check must pass within the timeout, then
 * (for deploys and rollbacks) it must stay up through the stability window. A container that exits,
 * restarts, or that Docker calls unhealthy fails at once; there is no point waiting out the timeout.
 * Docker's own HEALTHCHECK start period is where an image says it starts slowly.
 */
export type GateResult =
  | { ok: true; check: string; detail: string; ms: number }
  | { ok: false; reason: string; ms: number };

const POLL_MS = 200;

/** What a health gate reads: the container (Docker) and the time. */
type GateContext = Pick<ExecContext, 'docker' | 'clock' | 'metrics'>;

/** The health check of a started container; timed on the Metrics port when it is there. */
export async function waitHealthy(ctx: GateContext, id: string, timeoutMs: number): Promise<GateResult> {
  return timed(ctx, 'health_check', await untilHealthy(ctx, id, timeoutMs));
}

async function untilHealthy(ctx: GateContext, id: string, timeoutMs: number): Promise<GateResult> {
  const started = performance.now();
  const deadline = started + timeoutMs;
  let first: ContainerInspect | null = null;
  let lastDetail = 'no look yet';
  for (;;) {
    const info = await ctx.docker.inspectContainer(id);
    first ??= info;
    const crash = crashed(info, first);
    if (crash) return { ok: false, reason: `it ${crash}`, ms: elapsed(started) };
    const look = await lookAtContainer(info, ctx.clock);
    if (look.healthy) return { ok: true, check: look.check, detail: look.detail, ms: elapsed(started) };
    if (look.docker_health === 'unhealthy' && look.check.includes('HEALTHCHECK'))
      return {
        ok: false,
        reason: `Docker reports it unhealthy (${lastHealthOutput(info)})`,
        ms: elapsed(started),
      };
    lastDetail = look.detail;
    if (performance.now() + POLL_MS > deadline)
      return {
        ok: false,
        reason: `its health check (${look.check}) did not pass within ${seconds(timeoutMs)}: ${lastDetail}`,
        ms: elapsed(started),
      };
    await sleep(POLL_MS);
  }
}

/** After the health check passed: no exit, restart or unhealthy verdict for `windowMs`, then healthy once more. */
export async function watchStability(ctx: GateContext, id: string, windowMs: number): Promise<GateResult> {
  return timed(ctx, 'stability_window', await staysStable(ctx, id, windowMs));
}

function timed(ctx: GateContext, step: 'health_check' | 'stability_window', r: GateResult): GateResult {
  ctx.metrics?.healthGateTook(step, r.ok, r.ms / 1000);
  return r;
}

async function staysStable(ctx: GateContext, id: string, windowMs: number): Promise<GateResult> {
  const started = performance.now();
  const baseline = await ctx.docker.inspectContainer(id);
  for (;;) {
    const info = await ctx.docker.inspectContainer(id);
    const crash = crashed(info, baseline);
    if (crash)
      return {
        ok: false,
        reason: `it ${crash} within the ${seconds(windowMs)} stability window (${seconds(elapsed(started))} after its health check passed)`,
        ms: elapsed(started),
      };
    if (info.State.Health?.Status === 'unhealthy')
      return {
        ok: false,
        reason: `Docker reported it unhealthy within the ${seconds(windowMs)} stability window (${lastHealthOutput(info)})`,
        ms: elapsed(started),
      };
    const left = windowMs - (performance.now() - started);
    if (left <= 0) break;
    await sleep(Math.min(POLL_MS, left));
  }
  const look = await lookAtContainer(await ctx.docker.inspectContainer(id), ctx.clock);
  if (!look.healthy)
    return {
      ok: false,
      reason: `its health check failed at the end of the stability window: ${look.detail}`,
      ms: elapsed(started),
    };
  return { ok: true, check: look.check, detail: look.detail, ms: elapsed(started) };
}

/** Health check, then the stability window (windowMs 0: none), each logged as a step with its duration. */
export async function healthGate(
  ctx: Pick<ExecContext, 'docker' | 'clock' | 'logger' | 'metrics'>,
  id: string,
  timeoutMs: number,
  windowMs: number,
): Promise<GateResult> {
  const healthy = await waitHealthy(ctx, id, timeoutMs);
  logGateStep(ctx, 'health_check', id, healthy);
  if (!healthy.ok || windowMs <= 0) return healthy;
  const stable = await watchStability(ctx, id, windowMs);
  logGateStep(ctx, 'stability_window', id, stable, windowMs);
  return stable.ok ? { ...stable, ms: healthy.ms + stable.ms } : stable;
}

function logGateStep(
  ctx: Pick<ExecContext, 'logger'>,
  step: string,
  id: string,
  r: GateResult,
  windowMs?: number,
): void {
  const fields = {
    step,
    container: id,
    duration_ms: r.ms,
    ...(windowMs !== undefined ? { window_ms: windowMs } : {}),
  };
  if (r.ok) ctx.logger.info({ ...fields, check: r.check }, `step ${step} passed`);
  else ctx.logger.warn({ ...fields, failure: true, reason: r.reason }, `step ${step} failed`);
}

/** Why `info` is no longer the run that `since` saw, or null while it still is. */
function crashed(info: ContainerInspect, since: ContainerInspect): string | null {
  const s = info.State;
  if (s.Restarting) return `exited with code ${s.ExitCode} and Docker is restarting it`;
  if ((info.RestartCount ?? 0) > (since.RestartCount ?? 0))
    return `crashed and Docker restarted it (restart count ${info.RestartCount})`;
  if (!s.Running) {
    const oom = s.OOMKilled ? ', killed for lack of memory' : '';
    return `exited with code ${s.ExitCode}${oom}`;
  }
  if (since.State.Running && s.StartedAt !== since.State.StartedAt) return 'was restarted';
  return null;
}

function lastHealthOutput(info: ContainerInspect): string {
  const log = info.State.Health?.Log ?? [];
  const last = log[log.length - 1];
  if (!last) return 'no health check output';
  const out = last.Output.trim().split('\n').slice(-1)[0] ?? '';
  return `last check exit code ${last.ExitCode}${out ? `: ${out.slice(0, 200)}` : ''}`;
}

function elapsed(since: number): number {
  return Math.round(performance.now() - since);
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}
