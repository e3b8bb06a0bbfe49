import { DockerNotFoundError } from '../docker/docker-errors.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import { decideAutoRestart } from './auto-restart.js';
import { factsOf, lastHealthOutput, observedOf } from './container-facts.js';
import { type Decision, initialState, type MonitorInput, step } from './container-state.js';
import { alertForDecision, type DecisionContext, logEntryForDecision } from './monitor-alerts.js';
import { makeWatcherEffects } from './watcher-effects.js';
import {
  DEFAULT_WATCHER_RULES,
  type EventWatcherDeps,
  type Tracked,
  type WatcherCore,
  type WatcherRules,
} from './watcher-types.js';

/** Runs a dev restart when its delay is up (watcher-auto-restart.ts). */
type AutoRestart = (core: WatcherCore, id: string, key: string) => Promise<void>;

/**
 * The watcher's core: per-container queues (one container's work in order), the tracked containers,
 * and `apply`, which feeds an input to a container's state machine and carries out its decisions
 * (alert, run-log entry, a wake-up, a dev restart later).
 */
export function makeWatcherCore(
  deps: EventWatcherDeps,
  autoRestart: AutoRestart,
): WatcherCore & { stop(): void; idle(): Promise<void>; settled(): Promise<void> } {
  const rules: WatcherRules = { ...DEFAULT_WATCHER_RULES, ...deps.rules };
  const tracked = new Map<string, Tracked>();
  const queues = makeContainerQueues(deps.logger);
  const now = () => deps.clock.now().getTime();
  let isClosed = false;
  const closed = () => isClosed;
  const effects = makeWatcherEffects(deps, rules, now, closed);

  const core: WatcherCore = {
    deps,
    rules,
    tracked,
    now,
    closed,
    enqueue: queues.enqueue,
    log: effects.log,
    send: effects.send,
    inspect: (id) => inspectOrNull(deps, id),
    async track(id, info, phase) {
      const t = await newTracked(deps, info, phase);
      tracked.set(id, t);
      return t;
    },
    apply: (id, t, input) => apply(core, autoRestart, id, t, input),
  };
  return {
    ...core,
    /** Stops every timer; nothing new is started after. */
    stop() {
      isClosed = true;
      effects.stop();
      for (const t of tracked.values()) {
        if (t.wake) clearTimeout(t.wake);
        if (t.restartTimer) clearTimeout(t.restartTimer);
      }
    },
    idle: queues.idle,
    settled: queues.settled,
  };
}

/** One promise chain per container: its work runs in order, a failure is logged and ends that job only. */
function makeContainerQueues(logger: EventWatcherDeps['logger']) {
  const queues = new Map<string, Promise<void>>();
  return {
    enqueue(id: string, job: () => Promise<void>): Promise<void> {
      const next = (queues.get(id) ?? Promise.resolve())
        .then(job)
        .catch((err) => logger.error({ err, container: id }, 'monitor: handling a container event failed'));
      queues.set(id, next);
      void next.then(() => {
        if (queues.get(id) === next) queues.delete(id);
      });
      return next;
    },
    async idle() {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
    async settled() {
      await Promise.allSettled([...queues.values()]);
    },
  };
}

async function inspectOrNull(deps: EventWatcherDeps, id: string): Promise<ContainerInspect | null> {
  try {
    return await deps.docker.inspectContainer(id);
  } catch (err) {
    if (err instanceof DockerNotFoundError) return null;
    throw err;
  }
}

async function newTracked(
  deps: EventWatcherDeps,
  info: ContainerInspect,
  phase: Tracked['state']['phase'],
): Promise<Tracked> {
  return {
    facts: await factsOf(info, deps.docker, deps.classification),
    state: initialState(phase),
    lastStartedAt: observedOf(info).startedAt,
    signal: null,
    wake: null,
    restartTimer: null,
    ping: null,
  };
}

/** One input → the state machine → its decisions carried out, then forget the container or wake it later. */
async function apply(
  core: WatcherCore,
  autoRestart: AutoRestart,
  id: string,
  t: Tracked,
  input: MonitorInput,
) {
  const r = step(t.state, t.facts, input, core.rules);
  t.state = r.state;
  const crashLoop = r.state.incident?.crashLoopRaised === true;
  for (const d of r.decisions) await decide(core, autoRestart, t, d, crashLoop);
  if (t.wake) clearTimeout(t.wake);
  t.wake = null;
  if (r.forget) {
    if (t.restartTimer) clearTimeout(t.restartTimer);
    core.tracked.delete(id);
    return;
  }
  if (r.wakeAt !== null && !core.closed()) {
    t.wake = setTimeout(
      () => {
        t.wake = null;
        void core.enqueue(id, async () => {
          if (core.tracked.get(id) === t) await core.apply(id, t, { type: 'tick', at: core.now() });
        });
      },
      Math.max(0, r.wakeAt - core.now()),
    );
  }
}

/** A decision → its alert and run-log entry; a dev crash may also get a restart later. */
async function decide(
  core: WatcherCore,
  autoRestart: AutoRestart,
  t: Tracked,
  d: Decision,
  crashLoop: boolean,
) {
  const ctx: DecisionContext = { facts: t.facts, signal: t.signal };
  if (d.kind === 'down') {
    ctx.restart = decideAutoRestart(
      {
        facts: t.facts,
        cause: d.cause,
        exitCode: d.exitCode,
        crashesInWindow: d.crashesInWindow,
        crashLoop,
        reconciled: d.reconciled,
      },
      core.rules,
    );
    if (ctx.restart.action === 'restart' && !core.deps.restartContainer)
      ctx.restart = { action: 'none', reason: 'read_only' };
    if (ctx.restart.action === 'restart') {
      const id = t.facts.id;
      scheduleRestart(t, ctx.restart.delayMs, () =>
        core.enqueue(id, () => autoRestart(core, id, d.incidentKey)),
      );
    }
  }
  if (d.kind === 'unhealthy' && t.ping) {
    ctx.healthCheck = t.ping.check;
    ctx.healthOutput = t.ping.detail;
  } else if (d.kind === 'unhealthy') {
    const info = await core.inspect(t.facts.id).catch(() => null);
    ctx.healthOutput = info ? lastHealthOutput(info) : null;
  }
  const alert = alertForDecision(d, ctx);
  await Promise.all([alert ? core.send(alert) : Promise.resolve(), core.log(logEntryForDecision(d, ctx))]);
}

function scheduleRestart(t: Tracked, delayMs: number, due: () => Promise<void>) {
  if (t.restartTimer) clearTimeout(t.restartTimer);
  t.restartTimer = setTimeout(() => {
    t.restartTimer = null;
    void due();
  }, delayMs);
}
