import type { ContainerCreateOptions, ContainerInspect } from '../docker/docker-objects.js';
import { describeUpstreams, type ProxyPort, type Upstream, upstream } from '../proxy/proxy-port.js';
import type { RoutedService } from '../proxy/route-labels.js';
import { announce, ChangeAbortedError, type ExecContext } from './exec-context.js';
import { healthGate } from './health-gate.js';
import { instanceName, instanceOptions } from './start-first-instance.js';
import { changeStep, loggedStep, type StopRecord, stopStep } from './step-log.js';
import { STEP } from './steps.js';

/**
 * A routed service's replicas replaced start-first behind the front proxy (issue 11):
 *   for each replica: create_new (on its own port, named <name>-i<port>) → start_new → health gate
 *   and stability window on that port; then switch_upstream (the route: the new instances first,
 *   the old ones behind them) → checked through the proxy for the stability window →
 *   settle_upstream (the new instances alone) → drain (the old ones finish their requests in
 *   flight) → per old replica stop_old → disarm_old → rename_old (kept as the previous release) →
 *   rename_instance (the new one takes the replica's name).
 * Before the switch a failure removes every new instance: the old ones never stopped serving. After
 * it, the route is switched back at once, then the new instances removed. Every change (the switches
 * included) is announced first, so the write-ahead intent names it.
 */

export const START_FIRST_STEP = {
  switchUpstream: 'switch_upstream',
  /** After the checks through the proxy: the old instances leave the route, then drain. */
  settleUpstream: 'settle_upstream',
  switchBack: 'switch_back',
  drain: 'drain',
  renameInstance: 'rename_instance',
} as const;

export interface StartFirstInstance {
  /** The replica's name, which the new instance takes at the end. */
  name: string;
  old: ContainerInspect;
  oldPort: number;
  oldKeptName: string;
  /** The replacement's create options (replacement-options.ts); moved onto `port` here. */
  options: ContainerCreateOptions;
  /** The new instance's host port (instance-port.ts). */
  port: number;
}

export interface StartFirstPlan {
  service: string;
  routed: RoutedService;
  expectImageId: string;
  replicas: StartFirstInstance[];
}

export interface StartFirstDeps {
  proxy: ProxyPort;
  drainMs: number;
  /** One request through the proxy's listener: null when it answered 2xx, else what went wrong. */
  throughProxy: () => Promise<string | null>;
}

export type StartFirstResult =
  | { ok: true; ids: string[]; ports: number[]; stops: StopRecord[]; ms: number }
  | {
      ok: false;
      /** Where it failed: the old instances served throughout (before), or were switched back to (after). */
      stage: 'before_switch' | 'after_switch';
      failure: string;
      /** The route points at the old instances again (read back from the proxy) and the new ones are gone. */
      restored: boolean;
      ms: number;
    };

class StageFailed extends Error {}

/** After the switch, requests through the proxy this often, for the stability window (at least 1 s). */
const CHECK_EVERY_MS = 200;
const MIN_CHECK_MS = 1000;

const ports = (xs: readonly number[]): Upstream[] => xs.map(upstream);

export async function startFirstSwitch(
  ctx: ExecContext,
  p: StartFirstPlan,
  deps: StartFirstDeps,
): Promise<StartFirstResult> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const newIds: string[] = [];
  const oldPorts = p.replicas.map((r) => r.oldPort);
  const newPorts = p.replicas.map((r) => r.port);
  let switched = false;
  try {
    for (const r of p.replicas) {
      const id = await createInstance(ctx, p, r);
      newIds.push(id); // before the start: a start that fails half-way is undone the same way
      await changeStep(ctx, STEP.startNew, { replica: r.name, container: id, port: r.port }, () =>
        ctx.docker.startContainer(id),
      );
      const gate = await healthGate(ctx, id, ctx.healthTimeoutMs, ctx.stabilityWindowMs);
      if (!gate.ok) throw new StageFailed(`${r.name} on port ${r.port}: ${gate.reason}`);
    }
    const detail = {
      service: p.service,
      from: describeUpstreams(ports(oldPorts)),
      to: describeUpstreams(ports(newPorts)),
    };
    // The new instances first, the old ones behind them: should a new one fail now, requests fall
    // back at once (caddy-routes.ts, LOAD_BALANCING) while Helm switches back.
    await changeStep(ctx, START_FIRST_STEP.switchUpstream, detail, () =>
      deps.proxy.replaceUpstreams(p.service, ports([...newPorts, ...oldPorts])),
    );
    switched = true;
    await checkThroughProxy(ctx, p, deps, newIds, ports([...newPorts, ...oldPorts]));
    await changeStep(ctx, START_FIRST_STEP.settleUpstream, { service: p.service, to: detail.to }, () =>
      deps.proxy.replaceUpstreams(p.service, ports(newPorts)),
    );
    await loggedStep(
      ctx,
      START_FIRST_STEP.drain,
      { service: p.service, drain_ms: deps.drainMs },
      () => new Promise((resolve) => setTimeout(resolve, deps.drainMs)),
    );
  } catch (err) {
    if (err instanceof ChangeAbortedError) throw err;
    const failure = err instanceof StageFailed ? err.message : `${p.service}: ${(err as Error).message}`;
    const restored = await undo(ctx, p, deps, newIds, switched);
    return { ok: false, stage: switched ? 'after_switch' : 'before_switch', failure, restored, ms: ms() };
  }
  const stops: StopRecord[] = [];
  for (const [i, r] of p.replicas.entries()) stops.push(await retireOld(ctx, r, newIds[i]!));
  return { ok: true, ids: newIds, ports: newPorts, stops, ms: ms() };
}

/** The new instance, created on its own port from the verified image (not started yet). */
async function createInstance(ctx: ExecContext, p: StartFirstPlan, r: StartFirstInstance): Promise<string> {
  const options = instanceOptions(r.options, p.routed, r.port, instanceName(r.name, r.port));
  const id = await changeStep(
    ctx,
    STEP.createNew,
    { replica: r.name, image: options.Image ?? null, port: r.port },
    () => ctx.docker.createContainer(options, { allowedFrom: r.old }),
  );
  const info = await ctx.docker.inspectContainer(id);
  if (info.Image !== p.expectImageId) {
    await ctx.docker.removeContainer(id, { force: true });
    throw new StageFailed(
      `${r.name} was created from ${info.Image}, not the verified ${p.expectImageId} (the tag moved)`,
    );
  }
  return id;
}

/**
 * After the switch, through the proxy, for the stability window (at least 1 s): the route reads back
 * as set, a request every 200 ms answers, and every new instance still runs. The old instances still
 * run meanwhile, so a failure here switches back to them at once.
 */
async function checkThroughProxy(
  ctx: ExecContext,
  p: StartFirstPlan,
  deps: StartFirstDeps,
  newIds: readonly string[],
  expected: readonly Upstream[],
): Promise<void> {
  const windowMs = Math.max(MIN_CHECK_MS, ctx.stabilityWindowMs);
  await loggedStep(ctx, 'check_through_proxy', { service: p.service, window_ms: windowMs }, async () => {
    const route = await deps.proxy.readRoute(p.service);
    const now = route ? describeUpstreams(route.upstreams) : 'no route';
    if (now !== describeUpstreams(expected))
      throw new StageFailed(
        `the proxy's route of ${p.service} points at ${now}, not at ${describeUpstreams(expected)}`,
      );
    const until = performance.now() + windowMs;
    do {
      const problem = await deps.throughProxy();
      if (problem) throw new StageFailed(`${p.service} through the proxy: ${problem}`);
      for (const [i, id] of newIds.entries()) {
        const info = await ctx.docker.inspectContainer(id);
        const r = p.replicas[i]!;
        if (!info.State.Running)
          throw new StageFailed(
            `${r.name} on port ${r.port} stopped (exit code ${info.State.ExitCode ?? '?'})`,
          );
      }
      await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY_MS));
    } while (performance.now() < until);
  });
}

/** An old instance stops only now, after the drain, and is kept as the previous release. */
async function retireOld(ctx: ExecContext, r: StartFirstInstance, newId: string): Promise<StopRecord> {
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
  return stop;
}

/** Switch back first (the old instances serve again at once), then the new instances go. */
async function undo(
  ctx: ExecContext,
  p: StartFirstPlan,
  deps: StartFirstDeps,
  newIds: readonly string[],
  switched: boolean,
): Promise<boolean> {
  const back = ports(p.replicas.map((r) => r.oldPort));
  let routeBack = !switched;
  try {
    if (switched) {
      await announce(ctx, START_FIRST_STEP.switchBack, { service: p.service, to: describeUpstreams(back) });
      await deps.proxy.replaceUpstreams(p.service, back);
      const route = await deps.proxy.readRoute(p.service);
      routeBack = route !== null && describeUpstreams(route.upstreams) === describeUpstreams(back);
    }
    for (const [i, id] of newIds.entries()) {
      const d = { replica: p.replicas[i]!.name, container: id };
      await changeStep(ctx, STEP.stopNew, d, () => ctx.docker.stopContainer(id, 10));
      await changeStep(ctx, STEP.removeNew, d, () => ctx.docker.removeContainer(id, { force: true }));
    }
    return routeBack;
  } catch (err) {
    if (err instanceof ChangeAbortedError) throw err;
    ctx.logger.warn({ err, service: p.service, failure: true }, 'start-first: undo failed');
    return false;
  }
}
