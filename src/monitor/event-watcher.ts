import type { AlertInput, AlertSender } from '../bus/alert-sender.js';
import type { Clock } from '../base/clock.js';
import type { Scope } from '../config/config.js';
import { DockerNotFoundError } from '../docker/docker-errors.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { ContainerEvent, DockerEvents, DockerReads, EventSubscription } from '../docker/docker-ports.js';
import { isManaged } from '../docker/scope.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import type { ClassificationRule } from '../policy/environment-of.js';
import type { RunLog, RunLogEntryInput } from '../runlog/index.js';
import {
  type AlertHygiene,
  DEFAULT_HYGIENE_RULES,
  type HygieneRules,
  makeAlertHygiene,
} from './alert-hygiene.js';
import { type AutoRestartRules, DEFAULT_AUTO_RESTART_RULES, decideAutoRestart } from './auto-restart.js';
import { factsOf, lastHealthOutput, observedOf, serviceOf } from './container-facts.js';
import {
  type ContainerFacts,
  type ContainerRules,
  type ContainerState,
  DEFAULT_CONTAINER_RULES,
  type Decision,
  initialState,
  type MonitorInput,
  step,
} from './container-state.js';
import type { IsIntended } from './intended.js';
import {
  alertForDecision,
  type DecisionContext,
  formatDuration,
  logEntryForDecision,
} from './monitor-alerts.js';
import { reconcileInputs } from './reconcile.js';

/**
 * The event watcher: Docker's container events → the container state machine → alerts (through the
 * hygiene) and run-log entries, within milliseconds of the event. Facts (environment, health check,
 * restart policy) are read when a container starts, so a `die` is judged without a Docker call.
 * When the stream ends it reconnects with backoff, and reconciles: it lists the managed containers
 * and compares state, StartedAt, FinishedAt and RestartCount with what it knew.
 */
export interface WatcherRules extends ContainerRules, AutoRestartRules, HygieneRules {
  /** First reconnect delay after the stream ended; doubles up to reconnectMaxMs. @defaultValue 250 */
  reconnectInitialMs: number;
  /** @defaultValue 30_000 */
  reconnectMaxMs: number;
  /** The engine unreachable this long raises ONE helm_degraded alert. @defaultValue 10_000 */
  engineDownAlertAfterMs: number;
}

export const DEFAULT_WATCHER_RULES: Readonly<WatcherRules> = Object.freeze({
  ...DEFAULT_CONTAINER_RULES,
  ...DEFAULT_AUTO_RESTART_RULES,
  ...DEFAULT_HYGIENE_RULES,
  reconnectInitialMs: 250,
  reconnectMaxMs: 30_000,
  engineDownAlertAfterMs: 10_000,
});

/** The part of a pino logger the watcher uses. */
export interface WatcherLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type RestartOutcome = 'restarted' | 'busy' | 'running';

/** What a health ping concluded (after its retries). */
export interface HealthReport {
  healthy: boolean;
  at: number;
  /** describeSpec of the check (`GET http://…`, `tcp connect host:port`). */
  check: string;
  /** What the last probe said. */
  detail: string;
  /** The container's helm.op label (Helm's own operation), if any. */
  op: string | null;
}

export interface EventWatcherDeps {
  events: Pick<DockerEvents, 'subscribeContainerEvents'>;
  docker: Pick<DockerReads, 'listContainers' | 'inspectContainer' | 'inspectImage'>;
  scope: Scope;
  /** The owner's container-name classification (policy.classify), for environmentOf. */
  classification: readonly ClassificationRule[];
  isIntended: IsIntended;
  alerts: Pick<AlertSender, 'send'>;
  runLog: Pick<RunLog, 'append'>;
  clock: Clock;
  logger: WatcherLogger;
  /**
   * Restarts a crashed dev container. Called only after the `auto_restart` run-log entry is on disk
   * and Helm's own operations were ruled out; the implementation takes the service's lease ('busy'
   * when an operation holds it) and does nothing to a container that runs ('running').
   */
  restartContainer: ((id: string, service: string) => Promise<RestartOutcome>) | null;
  /** The host's name in group dedup keys and messages. */
  host: string;
  rules?: Partial<WatcherRules>;
}

export interface EventWatcher {
  /** Resolves once the first subscription and baseline are done (or the first attempt failed). */
  readonly ready: Promise<void>;
  /** Whether the events stream is connected now. */
  connected(): boolean;
  /** The monitor's view, for tests and the status page. */
  snapshot(): Array<{ id: string; name: string; service: string; phase: string; incident: string | null }>;
  /**
   * A verdict of Helm's own health pings (a `ghost.healthcheck` label, which Docker cannot see): fed
   * to the same state machine as Docker's health_status, so a ping-detected incident and an
   * event-driven one are the same incident (same key, one alert, one recovered).
   */
  reportHealth(id: string, report: HealthReport): Promise<void>;
  /** Resolves when every queued event has been handled (tests). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

interface Tracked {
  facts: ContainerFacts;
  state: ContainerState;
  /** Docker's StartedAt of the last run the monitor knows of (ms). */
  lastStartedAt: number | null;
  signal: string | null;
  wake: NodeJS.Timeout | null;
  restartTimer: NodeJS.Timeout | null;
  /** The failing health ping behind an unhealthy input (null: Docker's HEALTHCHECK said it). */
  ping: { check: string; detail: string } | null;
}

const INTENDED_ACTIONS = new Set(['kill', 'die', 'stop', 'destroy', 'health_status']);
const STATE_ACTIONS = new Set(['start', 'restart', 'kill', 'oom', 'die', 'stop', 'destroy', 'health_status']);

export function startEventWatcher(deps: EventWatcherDeps): EventWatcher {
  const rules: WatcherRules = { ...DEFAULT_WATCHER_RULES, ...deps.rules };
  const hygiene: AlertHygiene = makeAlertHygiene(rules, `downtime:group:${deps.host}`);
  const tracked = new Map<string, Tracked>();
  const queues = new Map<string, Promise<void>>();
  const now = () => deps.clock.now().getTime();

  let closed = false;
  let subscription: EventSubscription | null = null;
  let lostAt: number | null = null;
  let attempt = 0;
  let degradedSent = false;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let hygieneTimer: NodeJS.Timeout | null = null;
  let everConnected = false;

  /** One container's work runs in order; containers run independently. */
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

  // --- effects ---------------------------------------------------------------------------------

  async function log(entry: RunLogEntryInput): Promise<boolean> {
    try {
      await deps.runLog.append(entry);
      return true;
    } catch (err) {
      deps.logger.error({ err, event: entry.event }, 'monitor: could not write the run log');
      return false;
    }
  }

  async function send(alert: AlertInput): Promise<void> {
    const out = hygiene.offer(alert, now());
    scheduleHygiene();
    await Promise.all(out.map((a) => deps.alerts.send(a)));
  }

  function scheduleHygiene() {
    if (closed) return;
    if (hygieneTimer) clearTimeout(hygieneTimer);
    hygieneTimer = null;
    const at = hygiene.nextWakeAt();
    if (at === null) return;
    hygieneTimer = setTimeout(
      () => {
        hygieneTimer = null;
        const out = hygiene.tick(now());
        for (const a of out) void deps.alerts.send(a);
        if (out.length > 0)
          void log({
            event: 'monitor_alert_repeat',
            message: out.map((a) => `${a.kind} ${a.dedup_key}`).join('; '),
          });
        scheduleHygiene();
      },
      Math.max(0, Math.min(at - now(), 2 ** 31 - 1)),
    );
    hygieneTimer.unref?.();
  }

  async function inspect(id: string): Promise<ContainerInspect | null> {
    try {
      return await deps.docker.inspectContainer(id);
    } catch (err) {
      if (err instanceof DockerNotFoundError) return null;
      throw err;
    }
  }

  async function track(id: string, info: ContainerInspect, phase: ContainerState['phase']): Promise<Tracked> {
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

  // --- events ----------------------------------------------------------------------------------

  function onEvent(e: ContainerEvent) {
    if (closed || !STATE_ACTIONS.has(e.action) || !isManaged(e.attributes, deps.scope)) return;
    void enqueue(e.id, () => handleEvent(e));
  }

  async function handleEvent(e: ContainerEvent) {
    let t = tracked.get(e.id);
    if (!t) {
      if (e.action === 'destroy') return;
      const info = await inspect(e.id);
      if (!info) return;
      // First seen through this event: it ran before it could die, be killed or report health.
      t = await track(e.id, info, e.action === 'start' ? 'stopped' : 'running');
    } else if (e.action === 'start') {
      const info = await inspect(e.id).catch(() => null);
      if (info) {
        t.facts = await factsOf(info, deps.docker, deps.classification);
        t.lastStartedAt = observedOf(info).startedAt;
      }
    }
    if (e.action === 'health_status') t.ping = null;
    if (e.action === 'kill') t.signal = e.attributes['signal'] ?? null;
    if (e.action === 'start') t.signal = null;
    const intended = INTENDED_ACTIONS.has(e.action)
      ? await deps.isIntended(e.id, t.facts.service, e.attributes[HELM_LABEL.op] ?? null)
      : false;
    const exit = e.attributes['exitCode'];
    await apply(e.id, t, {
      type: 'event',
      action: e.action as Extract<MonitorInput, { type: 'event' }>['action'],
      at: e.at,
      intended,
      exitCode: exit !== undefined && /^\d+$/.test(exit) ? Number(exit) : null,
      signal: e.attributes['signal'] ?? null,
      health: e.health,
    });
  }

  async function apply(id: string, t: Tracked, input: MonitorInput) {
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
    if (r.wakeAt !== null && !closed) {
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
    await Promise.all([alert ? send(alert) : Promise.resolve(), log(logEntryForDecision(d, ctx))]);
  }

  // --- dev auto-restart ------------------------------------------------------------------------

  function scheduleRestart(t: Tracked, delayMs: number, key: string) {
    if (t.restartTimer) clearTimeout(t.restartTimer);
    const id = t.facts.id;
    t.restartTimer = setTimeout(() => {
      t.restartTimer = null;
      void enqueue(id, () => autoRestart(id, key));
    }, delayMs);
  }

  async function autoRestart(id: string, key: string) {
    const t = tracked.get(id);
    const restart = deps.restartContainer;
    if (closed || !t || !restart) return;
    const f = t.facts;
    const common = { target: f.service, environment: f.environment };
    // Only the incident it was scheduled for, and only while the container is still down for it:
    // anything that happened since (a start, a stop on purpose, a removal) cancels it.
    if (t.state.phase !== 'down' || t.state.incident?.key !== key) return;
    if (await deps.isIntended(id, f.service, null)) {
      await log({
        ...common,
        event: 'auto_restart_skipped',
        message: `${f.name}: Helm is changing ${f.service} now; the monitor leaves it to that operation`,
      });
      return;
    }
    // Helm changes nothing it cannot log.
    const logged = await log({
      ...common,
      event: 'auto_restart',
      message: `restarting crashed dev container ${f.name} (${f.service}) on its own [${key}]`,
    });
    if (!logged) return;
    // Said before Docker is called: its kill/die/stop (a restart that finds the container running)
    // are judged after the lease is released, and must still be Helm's own.
    await apply(id, t, { type: 'own_restart', at: now(), active: true });
    try {
      const outcome = await restart(id, f.service);
      // Docker was not called (busy, running): nothing of Helm's is coming.
      if (outcome !== 'restarted') await apply(id, t, { type: 'own_restart', at: now(), active: false });
      if (outcome !== 'restarted')
        await log({
          ...common,
          event: 'auto_restart_skipped',
          message:
            outcome === 'busy'
              ? `${f.name}: an operation holds ${f.service}'s lease; not restarted`
              : `${f.name} is already running; not restarted`,
        });
    } catch (err) {
      // What Docker did before it failed is judged on its own (default: reported).
      await apply(id, t, { type: 'own_restart', at: now(), active: false });
      deps.logger.error({ err, container: f.name }, 'monitor: auto-restart failed');
      await log({
        ...common,
        event: 'auto_restart_failed',
        code: 'docker_error',
        message: `restarting ${f.name} failed: ${(err as Error).message}`,
      });
    }
  }

  // --- stream, reconnect, reconcile ------------------------------------------------------------

  async function connect(): Promise<boolean> {
    let sub: EventSubscription;
    try {
      sub = await deps.events.subscribeContainerEvents({ onEvent, onEnd: onLost });
    } catch (err) {
      deps.logger.warn({ err }, 'monitor: cannot subscribe to Docker events');
      return false;
    }
    if (closed) {
      sub.close();
      return true;
    }
    subscription = sub;
    try {
      await reconcile(everConnected ? lostAt : null);
    } catch (err) {
      deps.logger.warn({ err }, 'monitor: reconcile failed; reconnecting');
      subscription = null;
      sub.close();
      return false;
    }
    return true;
  }

  function onLost(err: Error | null) {
    if (closed) return;
    subscription = null;
    lostAt = now();
    deps.logger.warn({ err }, 'monitor: the Docker events stream ended; reconnecting');
    void log({
      event: 'monitor_stream_lost',
      message: `the Docker events stream ended (${err?.message ?? 'closed by the engine'}); reconnecting with backoff, then reconciling`,
    });
    attempt = 0;
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (closed) return;
    const delay = Math.min(rules.reconnectMaxMs, rules.reconnectInitialMs * 2 ** Math.min(attempt, 20));
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void reconnect();
    }, delay);
  }

  async function reconnect() {
    if (closed) return;
    const ok = await connect();
    if (closed) return;
    if (ok) {
      const blindMs = lostAt === null ? 0 : now() - lostAt;
      await log({
        event: 'monitor_stream_back',
        message: `the Docker events stream is back after ${formatDuration(blindMs)}; reconciled ${tracked.size} managed containers`,
      });
      if (degradedSent) {
        degradedSent = false;
        await send({
          severity: 'info',
          kind: 'resolved',
          message: `Helm reaches the Docker engine again after ${formatDuration(blindMs)}; what changed meanwhile was reconciled`,
          details: { unreachable_ms: blindMs },
          dedup_key: `helm_degraded:docker`,
        });
      }
      lostAt = null;
      attempt = 0;
      return;
    }
    attempt += 1;
    if (!degradedSent && lostAt !== null && now() - lostAt >= rules.engineDownAlertAfterMs) {
      degradedSent = true;
      const message = `Helm cannot reach the Docker engine since ${new Date(lostAt).toISOString()}: no managed container is watched until it answers (one alert for all of them)`;
      await Promise.all([
        send({
          severity: 'critical',
          kind: 'helm_degraded',
          message,
          details: { since: new Date(lostAt).toISOString(), host: deps.host },
          dedup_key: 'helm_degraded:docker',
        }),
        log({ event: 'monitor_engine_down', code: 'docker_error', message }),
      ]);
    }
    scheduleReconnect();
  }

  /** Lists the managed containers and feeds the differences in as the events that were missed. */
  async function reconcile(blindSince: number | null) {
    const listed = (await deps.docker.listContainers()).filter((c) => isManaged(c.labels, deps.scope));
    const seen = new Set(listed.map((c) => c.id));
    const jobs: Promise<void>[] = [];
    const counts = { changed: 0 };
    for (const c of listed) {
      jobs.push(
        enqueue(c.id, async () => {
          const info = await inspect(c.id);
          if (!info) return;
          const observed = observedOf(info);
          let t = tracked.get(c.id);
          const known = t
            ? { phase: t.state.phase, lastStartedAt: t.lastStartedAt, restartCount: t.facts.restartCount }
            : undefined;
          t ??= await track(c.id, info, 'stopped');
          const service = serviceOf(c.labels, c.name);
          const inputs = reconcileInputs(known, observed, {
            now: now(),
            intended: await deps.isIntended(c.id, service, c.labels[HELM_LABEL.op] ?? null),
            blindSince,
          });
          if (inputs.length > 0 && known) {
            counts.changed += 1;
            await log({
              target: service,
              environment: t.facts.environment,
              event: 'monitor_reconciled',
              message: `${t.facts.name}: was ${known.phase}, Docker now says ${observed.running ? 'running' : `exited (code ${observed.exitCode})`}, started ${observed.startedAt ? new Date(observed.startedAt).toISOString() : 'never'}, restart count ${known.restartCount} → ${observed.restartCount}`,
            });
          }
          if (observed.startedAt !== t.lastStartedAt) {
            t.facts = await factsOf(info, deps.docker, deps.classification);
          }
          for (const input of inputs) await apply(c.id, t, input);
          t.lastStartedAt = observed.startedAt;
          t.facts = { ...t.facts, restartCount: observed.restartCount };
        }),
      );
    }
    for (const [id] of tracked) {
      if (seen.has(id)) continue;
      jobs.push(
        enqueue(id, async () => {
          const t = tracked.get(id);
          if (t) await apply(id, t, { type: 'event', action: 'destroy', at: now(), intended: false });
        }),
      );
    }
    await Promise.all(jobs);
    if (!everConnected) {
      everConnected = true;
      await log({
        event: 'monitor_started',
        message: `watching ${listed.length} managed containers through Docker's events stream (${[...tracked.values()].filter((t) => t.state.phase !== 'stopped').length} running)`,
      });
    }
  }

  const ready = (async () => {
    lostAt = now();
    const ok = await connect();
    if (ok) lostAt = null;
    else scheduleReconnect();
  })();

  return {
    ready,
    connected: () => subscription !== null,
    snapshot: () =>
      [...tracked.values()].map((t) => ({
        id: t.facts.id,
        name: t.facts.name,
        service: t.facts.service,
        phase: t.state.phase,
        incident: t.state.incident?.key ?? null,
      })),
    reportHealth(id, report) {
      if (closed) return Promise.resolve();
      return enqueue(id, async () => {
        const t = tracked.get(id);
        if (!t || closed) return;
        t.ping = report.healthy ? null : { check: report.check, detail: report.detail };
        const intended = await deps.isIntended(id, t.facts.service, report.op);
        await apply(id, t, {
          type: 'event',
          action: 'health_status',
          at: report.at,
          intended,
          health: report.healthy ? 'healthy' : 'unhealthy',
        });
      });
    },
    async idle() {
      while (queues.size > 0) await Promise.all([...queues.values()]);
    },
    async close() {
      closed = true;
      subscription?.close();
      subscription = null;
      if (reconnectTimer) clearTimeout(reconnectTimer);
      if (hygieneTimer) clearTimeout(hygieneTimer);
      for (const t of tracked.values()) {
        if (t.wake) clearTimeout(t.wake);
        if (t.restartTimer) clearTimeout(t.restartTimer);
      }
      await ready.catch(() => undefined);
      await Promise.allSettled([...queues.values()]);
    },
  };
}
