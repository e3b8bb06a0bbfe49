import type { AlertInput, AlertSender } from '../bus/alert-sender.js';
import type { Clock } from '../base/clock.js';
import type { Scope } from '../config/config.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerEvents, DockerReads } from '../docker/docker-ports.js';
import type { ClassificationRule } from '../policy/environment-of.js';
import type { RunLog, RunLogEntryInput } from '../runlog/index.js';
import { DEFAULT_HYGIENE_RULES, type HygieneRules } from './alert-hygiene.js';
import { type AutoRestartRules, DEFAULT_AUTO_RESTART_RULES } from './auto-restart.js';
import {
  type ContainerFacts,
  type ContainerRules,
  type ContainerState,
  DEFAULT_CONTAINER_RULES,
  type MonitorInput,
} from './container-state.js';
import type { IsIntended } from './intended.js';

/**
 * The event watcher's types, and the core its parts share (watcher-core.ts makes it). The parts:
 * watcher-core.ts (per-container queues, the state machine, alerts and run-log entries),
 * watcher-auto-restart.ts (dev auto-restart), watcher-reconcile.ts (what changed while blind),
 * watcher-stream.ts (the events stream, reconnect with backoff), event-watcher.ts (the whole).
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

/** What each of the monitor's watches reports through: alerts, the run log, the clock, a logger, the host. */
export interface WatchOutputs {
  alerts: Pick<AlertSender, 'send'>;
  runLog: Pick<RunLog, 'append'>;
  clock: Clock;
  logger: WatcherLogger;
  /** The host's name, in dedup keys and messages. */
  host: string;
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

export interface Tracked {
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

/** What the watcher's parts share: its deps and rules, the tracked containers, and its effects. */
export interface WatcherCore {
  deps: EventWatcherDeps;
  rules: WatcherRules;
  /** The managed containers the watcher knows, by id. */
  tracked: Map<string, Tracked>;
  now(): number;
  /** Whether close() was called: nothing new is started then. */
  closed(): boolean;
  /** One container's work runs in order; containers run independently. */
  enqueue(id: string, job: () => Promise<void>): Promise<void>;
  /** Appends to the run log; false (and logged) when it could not. */
  log(entry: RunLogEntryInput): Promise<boolean>;
  /** Sends an alert through the hygiene (dedup, grouping, repeats). */
  send(alert: AlertInput): Promise<void>;
  /** Docker's inspect; null when the container is gone. */
  inspect(id: string): Promise<ContainerInspect | null>;
  /** Starts tracking a container in `phase`, its facts read off `info`. */
  track(id: string, info: ContainerInspect, phase: ContainerState['phase']): Promise<Tracked>;
  /** Feeds one input to the container's state machine and carries out its decisions. */
  apply(id: string, t: Tracked, input: MonitorInput): Promise<void>;
}
