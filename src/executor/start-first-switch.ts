import type { ContainerCreateOptions, ContainerInspect } from '../docker/docker-objects.js';
import { describeUpstreams, type ProxyPort, upstream } from '../proxy/proxy-port.js';
import type { RoutedService } from '../proxy/route-labels.js';
import { announce, ChangeAbortedError, type ExecContext } from './exec-context.js';
import { healthGate } from './health-gate.js';
import { instanceName, instanceOptions } from './start-first-instance.js';
import { changeStep, loggedStep, type StopRecord, stopStep } from './step-log.js';
import { STEP } from './steps.js';

/**
 * One replica of a routed service replaced start-first behind the front proxy (issue 11):
 *   create_new (on its own port, named <name>-i<port>) → start_new → health gate and stability
 *   window on that port → switch_upstream (the proxy's route: the new one first, the old one behind
 *   it) → checked through the proxy for the stability window → settle_upstream (the new one alone)
 *   → drain (the old one finishes its requests in flight) → stop_old → disarm_old → rename_old (kept
 *   as the previous release) → rename_instance (the new one takes the name).
 * Before the switch a failure removes the new instance: the old one never stopped serving. After it,
 * the route is switched back at once, then the new instance removed. Every change (the switch
 * included) is announced first, so the write-ahead intent names it.
 */

export const START_FIRST_STEP = {
  switchUpstream: 'switch_upstream',
  /** After the checks through the proxy: the old instance leaves the route, then drains. */
  settleUpstream: 'settle_upstream',
  switchBack: 'switch_back',
  drain: 'drain',
  renameInstance: 'rename_instance',
} as const;

export interface StartFirstReplica {
  service: string;
  /** The replica's name, which the new instance takes at the end. */
  name: string;
  old: ContainerInspect;
  oldPort: number;
  oldKeptName: string;
  /** The replacement's create options (replacement-options.ts); moved onto `port` here. */
  options: ContainerCreateOptions;
  routed: RoutedService;
  expectImageId: string;
  /** The new instance's host port (instance-port.ts). */
  port: number;
}

export interface StartFirstDeps {
  proxy: ProxyPort;
  drainMs: number;
  /** One request through the proxy's listener: null when it answered 2xx, else what went wrong. */
  throughProxy: () => Promise<string | null>;
}

export type StartFirstResult =
  | { ok: true; id: string; port: number; stops: StopRecord[]; ms: number }
  | {
      ok: false;
      /** Where it failed: the old instance served throughout (before), or was switched back to (after). */
      stage: 'before_switch' | 'after_switch';
      failure: string;
      /** The route points at the old instance again (read back from the proxy) and the new one is gone. */
      restored: boolean;
      ms: number;
    };

class StageFailed extends Error {}

/** After the switch, requests through the proxy this often, for the stability window (at least 1 s). */
const CHECK_EVERY_MS = 200;
const MIN_CHECK_MS = 1000;

export async function startFirstReplica(
  ctx: ExecContext,
  r: StartFirstReplica,
  deps: StartFirstDeps,
): Promise<StartFirstResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  let newId: string | null = null;
  let switched = false;
  try {
    newId = await startInstance(ctx, r);
    const gate = await healthGate(ctx, newId, ctx.healthTimeoutMs, ctx.stabilityWindowMs);
    if (!gate.ok) throw new StageFailed(`${r.name} on port ${r.port}: ${gate.reason}`);
    const detail = {
      replica: r.name,
      from: describeUpstreams([upstream(r.oldPort)]),
      to: describeUpstreams([upstream(r.port)]),
    };
    // The new instance first, the old one behind it: should the new one fail now, requests fall
    // back to the old one at once (caddy-routes.ts, LOAD_BALANCING) while Helm switches back.
    await changeStep(ctx, START_FIRST_STEP.switchUpstream, detail, () =>
      deps.proxy.replaceUpstreams(r.service, [upstream(r.port), upstream(r.oldPort)]),
    );
    switched = true;
    await checkThroughProxy(ctx, r, deps, newId);
    await changeStep(ctx, START_FIRST_STEP.settleUpstream, { replica: r.name, to: detail.to }, () =>
      deps.proxy.replaceUpstreams(r.service, [upstream(r.port)]),
    );
    await loggedStep(
      ctx,
      START_FIRST_STEP.drain,
      { replica: r.name, drain_ms: deps.drainMs },
      () => new Promise((resolve) => setTimeout(resolve, deps.drainMs)),
    );
  } catch (err) {
    if (err instanceof ChangeAbortedError) throw err;
    const failure = err instanceof StageFailed ? err.message : `${r.name}: ${(err as Error).message}`;
    const restored = await undo(ctx, r, deps, newId, switched);
    return { ok: false, stage: switched ? 'after_switch' : 'before_switch', failure, restored, ms: ms() };
  }
  const stops = await retireOld(ctx, r, newId);
  return { ok: true, id: newId, port: r.port, stops, ms: ms() };
}

async function startInstance(ctx: ExecContext, r: StartFirstReplica): Promise<string> {
  const options = instanceOptions(r.options, r.routed, r.port, instanceName(r.name, r.port));
  const id = await changeStep(
    ctx,
    STEP.createNew,
    { replica: r.name, image: options.Image ?? null, port: r.port },
    () => ctx.docker.createContainer(options, { allowedFrom: r.old }),
  );
  const info = await ctx.docker.inspectContainer(id);
  if (info.Image !== r.expectImageId) {
    await ctx.docker.removeContainer(id, { force: true });
    throw new StageFailed(
      `${r.name} was created from ${info.Image}, not the verified ${r.expectImageId} (the tag moved)`,
    );
  }
  await changeStep(ctx, STEP.startNew, { replica: r.name, container: id, port: r.port }, () =>
    ctx.docker.startContainer(id),
  );
  return id;
}

/**
 * After the switch, through the proxy, for the stability window (at least 1 s): the route points at
 * the new instance, and a request every 200 ms answers. The old instance still runs meanwhile, so a
 * failure here switches back to it at once.
 */
async function checkThroughProxy(
  ctx: ExecContext,
  r: StartFirstReplica,
  deps: StartFirstDeps,
  newId: string,
): Promise<void> {
  const windowMs = Math.max(MIN_CHECK_MS, ctx.stabilityWindowMs);
  await loggedStep(
    ctx,
    'check_through_proxy',
    { replica: r.name, port: r.port, window_ms: windowMs },
    async () => {
      const route = await deps.proxy.readRoute(r.service);
      const now = route ? describeUpstreams(route.upstreams) : 'no route';
      if (now !== describeUpstreams([upstream(r.port), upstream(r.oldPort)]))
        throw new StageFailed(
          `the proxy's route of ${r.service} points at ${now}, not at the new instance first`,
        );
      const until = performance.now() + windowMs;
      do {
        const problem = await deps.throughProxy();
        if (problem) throw new StageFailed(`${r.service} through the proxy: ${problem}`);
        const info = await ctx.docker.inspectContainer(newId);
        if (!info.State.Running)
          throw new StageFailed(
            `${r.name} on port ${r.port} stopped (exit code ${info.State.ExitCode ?? '?'})`,
          );
        await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
      } while (performance.now() < until);
    },
  );
}

/** The old instance stops only now, after the drain, and is kept as the previous release. */
async function retireOld(ctx: ExecContext, r: StartFirstReplica, newId: string): Promise<StopRecord[]> {
  const d = { replica: r.name, container: r.old.Id };
  const stop = await stopStep(ctx, STEP.stopOld, d, r.old);
  const policy = r.old.HostConfig.RestartPolicy;
  if (policy?.Name && policy.Name !== 'no')
    await changeStep(ctx, STEP.disarmOld, d, () => ctx.docker.setRestartPolicy(r.old.Id, { Name: 'no' }));
  await changeStep(ctx, STEP.renameOld, { ...d, to: r.oldKeptName }, () =>
    ctx.docker.renameContainer(r.old.Id, r.oldKeptName),
  );
  await changeStep(ctx, START_FIRST_STEP.renameInstance, { replica: r.name, container: newId }, () =>
    ctx.docker.renameContainer(newId, r.name),
  );
  return [stop];
}

/** Switch back first (the old instance serves again at once), then the new instance goes. */
async function undo(
  ctx: ExecContext,
  r: StartFirstReplica,
  deps: StartFirstDeps,
  newId: string | null,
  switched: boolean,
): Promise<boolean> {
  let routeBack = !switched;
  try {
    if (switched) {
      await announce(ctx, START_FIRST_STEP.switchBack, {
        replica: r.name,
        to: describeUpstreams([upstream(r.oldPort)]),
      });
      await deps.proxy.replaceUpstreams(r.service, [upstream(r.oldPort)]);
      const route = await deps.proxy.readRoute(r.service);
      routeBack =
        route !== null && describeUpstreams(route.upstreams) === describeUpstreams([upstream(r.oldPort)]);
    }
    if (newId) {
      const d = { replica: r.name, container: newId };
      await changeStep(ctx, STEP.stopNew, d, () => ctx.docker.stopContainer(newId, 10));
      await changeStep(ctx, STEP.removeNew, d, () => ctx.docker.removeContainer(newId, { force: true }));
    }
    return routeBack;
  } catch (err) {
    if (err instanceof ChangeAbortedError) throw err;
    ctx.logger.warn({ err, replica: r.name, failure: true }, 'start-first: undo failed');
    return false;
  }
}
