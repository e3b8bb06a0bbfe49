import type { Clock } from '../base/clock.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { DockerNotFoundError } from '../docker/docker-errors.js';
import { openPingSchedulers, type PingConnection, type PingSchedulers } from '../bus/ping-queue.js';
import { helmKey } from '../bus/queue-names.js';
import { HELM_LABEL } from '../docker/helm-labels.js';
import { lookAtContainer } from '../health/container-health.js';
import { describeSpec, healthCheckSpec } from '../health/health-check-spec.js';
import { healthLabelsOf } from '../proxy/health-labels.js';
import type { EventWatcher, HealthReport, WatcherLogger } from './event-watcher.js';
import { singleFlight } from './single-flight.js';

/**
 * Health pings: a BullMQ job scheduler per managed service on the private queue `helm.pings` runs
 * the executor's health check (lookAtContainer: no stability window) on an interval; its jobs are
 * consumed by workers/pings.ts, which calls `ping`. Only services whose check is a
 * `ghost.healthcheck` label (http/tcp) are pinged: Docker cannot see those, while a Docker
 * HEALTHCHECK already reaches the monitor as health_status events. A failure counts only after
 * `failuresToCount` in a row; a verdict that changes is handed to the event watcher, whose state
 * machine, alerts and run log decide (same incident keys as Docker's health events). Pings change
 * nothing and are not requests: no result records, jobs removed once done.
 */
export const PINGS_QUEUE = 'helm.pings';

/**
 * The BullMQ prefix of a host's `helm.pings`: `<prefix>:helm:<host>`, so the monitors of several
 * hosts sharing one bus never take each other's pings (each host pings its own engine's containers).
 */
export function pingsPrefix(prefix: string, host: string): string {
  return helmKey(prefix, host);
}
export const PING_INTERVAL_LABEL = 'ghost.ping_interval_s';

export interface PingRules {
  /** @defaultValue 15_000 */
  intervalMs: number;
  /** Consecutive failed pings before the service counts as unhealthy. @defaultValue 2 */
  failuresToCount: number;
  /** How often the schedulers are matched with the managed containers. @defaultValue 5_000 */
  syncMs: number;
}

export const DEFAULT_PING_RULES: Readonly<PingRules> = Object.freeze({
  intervalMs: 15_000,
  failuresToCount: 2,
  syncMs: 5_000,
});

const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 3_600_000;

/** `ghost.ping_interval_s` (seconds, may be fractional), clamped to 1 s … 1 h; otherwise the default. */
export function pingIntervalMs(labels: Readonly<Record<string, string>>, defaultMs: number): number {
  const raw = labels[PING_INTERVAL_LABEL];
  if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw.trim())) return defaultMs;
  const ms = Math.round(Number(raw) * 1000);
  return Math.min(MAX_INTERVAL_MS, Math.max(MIN_INTERVAL_MS, ms));
}

/** The check Helm pings for this container, or null (no label check, or Docker watches it itself). */
export function pingableCheck(info: Pick<ContainerInspect, 'Config'>): string | null {
  // A routed service's `{port}` rendered with this container's own port (issue 11).
  const labels = info.Config ? healthLabelsOf(info) : {};
  const test = info.Config?.Healthcheck?.Test;
  if (Array.isArray(test) && test.length > 0 && test[0] !== 'NONE') return null;
  const chosen = healthCheckSpec(labels, test);
  if (!chosen.ok) return null;
  return chosen.spec.kind === 'http' || chosen.spec.kind === 'tcp' ? describeSpec(chosen.spec) : null;
}

export interface PingState {
  verdict: 'unknown' | 'healthy' | 'unhealthy';
  failures: number;
}

export const PING_UNKNOWN: PingState = Object.freeze({ verdict: 'unknown', failures: 0 });

/**
 * One ping's result → the next state, and what changed (pure). The first success is the baseline
 * (nothing to report); `failuresToCount` failures in a row make it unhealthy; one success after
 * that makes it healthy again.
 */
export function pingStep(
  state: PingState,
  healthy: boolean,
  failuresToCount: number,
): { state: PingState; report: 'healthy' | 'unhealthy' | null } {
  if (healthy) {
    const report = state.verdict === 'unhealthy' ? 'healthy' : null;
    return { state: { verdict: 'healthy', failures: 0 }, report };
  }
  const failures = state.failures + 1;
  if (failures >= Math.max(1, failuresToCount) && state.verdict !== 'unhealthy')
    return { state: { verdict: 'unhealthy', failures }, report: 'unhealthy' };
  return { state: { ...state, failures }, report: null };
}

/**
 * Whether to hand the pings' verdict to the event watcher now (pure): when the verdict or the
 * watcher's phase of the container changed since the last hand-over, and the verdict disagrees with
 * the phase. A verdict the watcher could not take (the container was recovering from a crash) is
 * handed over again once it runs; one it took is not repeated (the watcher's hygiene repeats alerts).
 */
export function pingHandover(
  verdict: PingState['verdict'],
  phase: string,
  lastSent: string | null,
): { report: 'healthy' | 'unhealthy' | null; sent: string | null } {
  const key = `${verdict}@${phase}`;
  if (key === lastSent) return { report: null, sent: lastSent };
  if (verdict === 'unhealthy' && (phase === 'running' || phase === 'recovering'))
    return { report: 'unhealthy', sent: key };
  if (verdict === 'healthy' && phase === 'unhealthy') return { report: 'healthy', sent: key };
  return { report: null, sent: lastSent };
}

export interface HealthPingsDeps {
  /** A command connection for the schedulers (bus/ping-queue.ts); workers/pings.ts consumes the jobs. */
  connection: PingConnection;
  prefix: string;
  host: string;
  docker: Pick<DockerReads, 'inspectContainer'>;
  watcher: Pick<EventWatcher, 'snapshot' | 'reportHealth'>;
  clock: Clock;
  logger: WatcherLogger;
  rules?: Partial<PingRules>;
}

export interface HealthPings {
  /** Pings one service's running containers; a verdict that changed goes to the event watcher. */
  ping(service: string): Promise<void>;
  /** Matches the schedulers with the managed containers now (also runs every syncMs). */
  sync(): Promise<void>;
  /** Scheduler id → interval (ms) of the services pinged now. */
  scheduled(): ReadonlyMap<string, number>;
  /** The pings' view: container id → state (for doctor / tests). */
  states(): ReadonlyMap<string, PingState & { service: string; check: string }>;
  close(): Promise<void>;
}

/** Up as far as the event watcher knows (down and stopped containers are the events' business). */
const PINGED_PHASES = new Set(['running', 'unhealthy', 'recovering']);

interface Known {
  service: string;
  check: string | null;
  intervalMs: number;
}

/** The pings' state, shared by the ping of one service and the schedulers' sync. */
interface Pings {
  deps: HealthPingsDeps;
  rules: PingRules;
  queue: PingSchedulers;
  /** This host's schedulers' ids begin with it. */
  schedulerPrefix: string;
  /** By container id: its service, its check and its interval (a container's labels never change). */
  known: Map<string, Known>;
  /** Scheduler id → interval (ms). */
  scheduled: Map<string, number>;
  /** By container id: its run (StartedAt) and the ping state of that run. */
  states: Map<string, { run: string; state: PingState; service: string; check: string; sent: string | null }>;
  closed: boolean;
}

export async function startHealthPings(deps: HealthPingsDeps): Promise<HealthPings> {
  const p: Pings = {
    deps,
    rules: { ...DEFAULT_PING_RULES, ...deps.rules },
    queue: openPingSchedulers({
      name: PINGS_QUEUE,
      connection: deps.connection,
      prefix: pingsPrefix(deps.prefix, deps.host),
    }),
    schedulerPrefix: `ping:${deps.host}:`,
    known: new Map(),
    scheduled: new Map(),
    states: new Map(),
    closed: false,
  };
  const syncing = singleFlight(() => syncSchedulers(p));
  const sync = syncing.run;

  // Schedulers a previous run of this host left behind are replaced by what runs now.
  for (const id of await p.queue.schedulerIds()) {
    if (id.startsWith(p.schedulerPrefix)) await p.queue.removeScheduler(id);
  }
  await sync().catch((err) => deps.logger.warn({ err }, 'monitor: could not schedule the health pings'));
  const timer = setInterval(() => {
    void sync().catch((err) => deps.logger.warn({ err }, 'monitor: could not schedule the health pings'));
  }, p.rules.syncMs);
  timer.unref?.();

  return {
    ping: (service) => pingService(p, service),
    sync,
    scheduled: () => p.scheduled,
    states: () =>
      new Map([...p.states].map(([id, s]) => [id, { ...s.state, service: s.service, check: s.check }])),
    async close() {
      p.closed = true;
      clearInterval(timer);
      await syncing.current()?.catch(() => undefined);
      // The schedulers are this process's: another run of this host starts its own.
      for (const id of p.scheduled.keys()) await p.queue.removeScheduler(id).catch(() => undefined);
      p.scheduled.clear();
      await p.queue.close();
    },
  };
}

/** Pings the service's containers that are up; a verdict that changed goes to the event watcher. */
async function pingService(p: Pings, service: string): Promise<void> {
  const { deps } = p;
  const targets = deps.watcher.snapshot().filter((c) => c.service === service && PINGED_PHASES.has(c.phase));
  await Promise.all(
    targets.map(async (c) => {
      let info: ContainerInspect;
      try {
        info = await deps.docker.inspectContainer(c.id);
      } catch (err) {
        if (!(err instanceof DockerNotFoundError)) throw err;
        return;
      }
      const check = pingableCheck(info);
      if (!check) return;
      const look = await lookAtContainer(info, deps.clock);
      // A container that is not running is the events' business (die, stop), not the pings'.
      if (!look.running || p.closed) return;
      const run = info.State.StartedAt ?? '';
      const prev = p.states.get(c.id);
      const same = prev !== undefined && prev.run === run;
      const r = pingStep(same ? prev.state : PING_UNKNOWN, look.healthy, p.rules.failuresToCount);
      // The watcher's phase now (it may have changed while the probe ran).
      const phase = deps.watcher.snapshot().find((x) => x.id === c.id)?.phase ?? c.phase;
      const h = pingHandover(r.state.verdict, phase, same ? prev.sent : null);
      p.states.set(c.id, { run, state: r.state, service, check, sent: h.sent });
      if (!h.report) return;
      const report: HealthReport = {
        healthy: h.report === 'healthy',
        at: deps.clock.now().getTime(),
        check,
        detail: look.detail,
        op: info.Config?.Labels?.[HELM_LABEL.op] ?? null,
      };
      await deps.watcher.reportHealth(c.id, report);
    }),
  );
}

/** Matches the schedulers with the managed containers: one per pinged service, at its shortest interval. */
async function syncSchedulers(p: Pings): Promise<void> {
  const { deps, known, scheduled } = p;
  const snap = deps.watcher.snapshot();
  const ids = new Set(snap.map((c) => c.id));
  for (const id of known.keys()) if (!ids.has(id)) known.delete(id);
  for (const id of p.states.keys()) if (!ids.has(id)) p.states.delete(id);
  for (const c of snap) {
    if (known.has(c.id)) continue;
    // A container's labels and HEALTHCHECK never change: inspect once.
    const info = await deps.docker.inspectContainer(c.id).catch(() => null);
    if (!info) continue;
    known.set(c.id, {
      service: c.service,
      check: pingableCheck(info),
      intervalMs: pingIntervalMs(info.Config?.Labels ?? {}, p.rules.intervalMs),
    });
  }
  const desired = new Map<string, { service: string; every: number }>();
  for (const k of known.values()) {
    if (!k.check) continue;
    const id = `${p.schedulerPrefix}${k.service}`;
    const prev = desired.get(id);
    desired.set(id, { service: k.service, every: Math.min(prev?.every ?? k.intervalMs, k.intervalMs) });
  }
  for (const [id, d] of desired) {
    if (p.closed) return;
    if (scheduled.get(id) === d.every) continue;
    await p.queue.upsertScheduler(id, d.every, { host: deps.host, service: d.service });
    scheduled.set(id, d.every);
  }
  for (const id of [...scheduled.keys()]) {
    if (desired.has(id) || p.closed) continue;
    await p.queue.removeScheduler(id);
    scheduled.delete(id);
  }
}
