import { type ContainerInspect, DockerNotFoundError } from '../docker/docker-client.js';
import { decideAutoRestart } from './auto-restart.js';
import { factsOf, lastHealthOutput, observedOf } from './container-facts.js';
import { type Decision, initialState, step } from './container-state.js';
import { alertForDecision, type DecisionContext, logEntryForDecision } from './monitor-alerts.js';
import { makeWatcherEffects } from './watcher-effects.js';
import {
  DEFAULT_WATCHER_RULES,
  type EventWatcherDeps,
  type Tracked,
  type WatcherCore,
  type WatcherRules,
} from './watcher-types.js';

/**
 * The watcher's core: per-container queues (one container's work in order), the tracked containers,
 * and `apply`, which feeds an input to a container's state machine and carries out its decisions
 * (alert, run-log entry, a wake-up, a dev restart later). `autoRestart` runs a restart when it is due
 * (watcher-auto-restart.ts).
 */
export function makeWatcherCore(
  deps: EventWatcherDeps,
  autoRestart: (core: WatcherCore, id: string, key: string) => Promise<void>,
): WatcherCore & { stop(): void; idle(): Promise<void>; settled(): Promise<void> } {
  const rules: WatcherRules = { ...DEFAULT_WATCHER_RULES, ...deps.rules };
  const tracked = new Map<string, Tracked>();
  const queues = new Map<string, Promise<void>>();
  const now = () => deps.clock.now().getTime();
  let isClosed = false;
  const closed = () => isClosed;
  const effects = makeWatcherEffects(deps, rules, now, closed);

  function enqueue(id: string, job: () => Promise<void>): Promise<void> {
    const next = (queues.get(id) ?? Promise.resolve())
      .then(job)
      .catch((err) =>
        deps.logger.error({ err, container: id }, 'monitor: handling a container event failed'),
      );
    queues.set(id, next);
    void next.then(() => {
      if (queues.get(id) === next) queues.delete(id);
    });
    return next;
  }

  async function inspect(id: string): Promise<ContainerInspect | null> {
    try {
      return await deps.docker.inspectContainer(id);
    } catch (err) {
      if (err instanceof DockerNotFoundError) return null;
      throw err;
    }
  }

  async function track(id: string, info: ContainerInspect, phase: Tracked['state']['phase']) {
    const facts = await factsOf(info, deps.docker, deps.classification);
    const t: Tracked = {
      facts,
      state: initialState(phase),
      lastStartedAt: observedOf(info).startedAt,
      signal: null,
      wake: null,
      restartTimer: null,
      ping: null,
    };
    tracked.set(id, t);
    return t;
  }

  const core: WatcherCore = {
    deps,
    rules,
    tracked,
    now,
    closed,
    enqueue,
    log: effects.log,
    send: effects.send,
    inspect,
    track,
    apply,
  };

  async function apply(id: string, t: Tracked, input: Parameters<WatcherCore['apply']>[2]) {
    const r = step(t.state, t.facts, input, rules);
    t.state = r.state;
    const crashLoop = r.state.incident?.crashLoopRaised === true;
    for (const d of r.decisions) await decide(t, d, crashLoop);
    if (t.wake) clearTimeout(t.wake);
    t.wake = null;
    if (r.forget) {
      if (t.restartTimer) clearTimeout(t.restartTimer);
      tracked.delete(id);
      return;
    }
    if (r.wakeAt !== null && !isClosed) {
      t.wake = setTimeout(
        () => {
          t.wake = null;
          void enqueue(id, async () => {
            if (tracked.get(id) === t) await apply(id, t, { type: 'tick', at: now() });
          });
        },
        Math.max(0, r.wakeAt - now()),
      );
    }
  }

  async function decide(t: Tracked, d: Decision, crashLoop: boolean) {
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
        rules,
      );
      if (ctx.restart.action === 'restart' && !deps.restartContainer)
        ctx.restart = { action: 'none', reason: 'read_only' };
      if (ctx.restart.action === 'restart') scheduleRestart(t, ctx.restart.delayMs, d.incidentKey);
    }
    if (d.kind === 'unhealthy' && t.ping) {
      ctx.healthCheck = t.ping.check;
      ctx.healthOutput = t.ping.detail;
    } else if (d.kind === 'unhealthy') {
      const info = await inspect(t.facts.id).catch(() => null);
      ctx.healthOutput = info ? lastHealthOutput(info) : null;
    }
    const alert = alertForDecision(d, ctx);
    await Promise.all([
      alert ? effects.send(alert) : Promise.resolve(),
      effects.log(logEntryForDecision(d, ctx)),
    ]);
  }

  function scheduleRestart(t: Tracked, delayMs: number, key: string) {
    if (t.restartTimer) clearTimeout(t.restartTimer);
    const id = t.facts.id;
    t.restartTimer = setTimeout(() => {
      t.restartTimer = null;
      void enqueue(id, () => autoRestart(core, id, key));
    }, delayMs);
  }

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
    async idle() {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
    async settled() {
      await Promise.allSettled([...queues.values()]);
    },
  };
}
