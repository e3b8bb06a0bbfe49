/**
 * One managed container's life as the Docker events stream tells it, turned into the monitor's
 * decisions (pure: no I/O, time comes in with each input).
 *
 * How a stop is told from a crash (what Docker sends, measured on the engine):
 * - a crash, or the kernel's OOM killer: `die` alone (`oom` first for an OOM kill);
 * - `docker kill`: `kill` (signal) then `die`;
 * - `docker stop` (the owner's, or Helm's own): `kill` (the stop signal) then `die` then `stop`, the
 *   `stop` a few ms after the `die`; `docker rm -f`: `kill`, `die`, `destroy`.
 * So a `die` that follows a `kill` waits a short grace for its `stop`/`destroy` before it counts as
 * down; a `die` without a `kill` is down at once. Anything Helm itself is changing (its lease, intent
 * or `helm.op`, judged by the caller and passed in as `intended`) is never down.
 *
 * The monitor's own dev auto-restart is Helm's too, and the caller cannot prove it from Redis: its
 * events are judged after the restart returned and its lease is gone. When `docker restart` finds the
 * container running (it was started again meanwhile, or Docker has not yet processed the exit of a
 * crash-looping process), Docker sends `kill`, `die`, `stop`, then `start`, exactly an owner's
 * `docker stop` followed by a start. So the caller says `own_restart` before it calls Docker; from
 * then until Docker's `restart` event (or the start that follows the restart's own kill), a `kill` is
 * Helm's, and the die/stop after it are too (never `stopped_by_owner`). A `die` without a kill is
 * still a crash: that is how a crash-looping container dies right after Helm started it.
 *
 * long-file: over 400 lines on purpose: one state machine, its inputs, decisions and the step per event are
 * read together (step() dispatches to onStart, onDie, onStop, onDestroy, onHealthStatus).
 */

export type Environment = 'production' | 'staging' | 'dev';

/** What the monitor knows about a container, from inspecting it (refreshed at each start). */
export interface ContainerFacts {
  id: string;
  name: string;
  /** ghost.service, else the compose service, else the container name (the executor's resolution). */
  service: string;
  environment: Environment;
  /** The container has a Docker HEALTHCHECK: it is back only once Docker says healthy. */
  hasDockerHealthcheck: boolean;
  /** Docker's restart policy name ('' or 'no' when none) and its retry bound (0 = unbounded). */
  restartPolicy: { name: string; maximumRetryCount: number };
  /** Docker's RestartCount at the last inspect. */
  restartCount: number;
  /** ghost.role helm or bus: Helm never changes it (no auto-restart). */
  protectedRole: boolean;
}

export type Phase =
  /** Up (healthy, or nothing says otherwise). */
  | 'running'
  /** Up, but Docker's HEALTHCHECK says unhealthy. */
  | 'unhealthy'
  /** Died after a kill: waiting a moment for the stop/destroy that says the owner did it. */
  | 'exit_pending'
  /** Down and not on purpose: an incident is open. */
  | 'down'
  /** Started again after an incident; back once stable (and healthy, with a HEALTHCHECK). */
  | 'recovering'
  /** Stopped on purpose (by its owner or by Helm), or found stopped: nothing to watch. */
  | 'stopped';

export type IncidentKind = 'downtime' | 'unhealthy';

export interface Incident {
  /** The dedup_key of every alert of this incident (recovered included). */
  key: string;
  /** The kind of alert that opened it. */
  opened: IncidentKind;
  /** Whether a downtime alert went out for it (an unhealthy incident escalates once it dies). */
  downAlerted: boolean;
  crashLoopRaised: boolean;
  /** When the service stopped being up and healthy (ms). */
  since: number;
}

export interface ContainerState {
  phase: Phase;
  incident: Incident | null;
  /** The last kill of the current run (since the last start). */
  kill: { at: number; signal: string | null } | null;
  /** Helm's own operation touched this run (any event of it was intended). */
  intendedSeen: boolean;
  /** The monitor's own restart is under way (killed: it has stopped a running container). */
  ownRestart: { killed: boolean } | null;
  oom: boolean;
  /** The die waiting for its stop/destroy (phase exit_pending). */
  pendingDie: { at: number; exitCode: number | null } | null;
  /** When the current run started (ms), null when not known or not running. */
  startedAt: number | null;
  /** When Docker said healthy during recovery. */
  healthyAt: number | null;
  /** Crash times within the crash-loop window (owner stops and Helm's own changes excluded). */
  crashes: number[];
}

export interface ContainerRules {
  /**
   * How long a die that followed a kill waits for its stop/destroy. Docker sends the stop 5–10 ms
   * after the die, the destroy of an `rm -f` about 40 ms after (measured). @defaultValue 150
   */
  ownerStopGraceMs: number;
  /** How long a container must stay up (and healthy) before its incident is recovered. @defaultValue 10_000 */
  recoveryStableMs: number;
  /** Crash loop: more than `maxRestarts` crashes within `crashLoopWindowMs`. @defaultValue 5 */
  maxRestarts: number;
  /** @defaultValue 600_000 (10 minutes) */
  crashLoopWindowMs: number;
}

export const DEFAULT_CONTAINER_RULES: Readonly<ContainerRules> = Object.freeze({
  ownerStopGraceMs: 150,
  recoveryStableMs: 10_000,
  maxRestarts: 5,
  crashLoopWindowMs: 600_000,
});

export type DownCause = 'crash' | 'oom' | 'killed';

const STOP_SEQUENCE: ReadonlySet<string> = new Set(['kill', 'die', 'stop', 'destroy']);

/** What happened, from Docker's events (or synthesised by reconcile), or a timer. */
export type MonitorInput =
  | {
      type: 'event';
      action: 'start' | 'restart' | 'kill' | 'oom' | 'die' | 'stop' | 'destroy' | 'health_status';
      at: number;
      /** Helm itself is changing this container or its service now. */
      intended: boolean;
      exitCode?: number | null;
      signal?: string | null;
      /** health_status: healthy | unhealthy | starting. */
      health?: string | null;
      /**
       * Synthesised from a reconcile after the events stream was down: no kill/stop was seen, so a
       * die cannot be told from an owner's stop (the monitor reports it, and never restarts on it).
       */
      reconciled?: boolean;
    }
  | { type: 'tick'; at: number }
  /**
   * The monitor itself is about to restart the container (active), or decided not to touch Docker
   * after all (inactive). Fed in order with the events, before Docker is called.
   */
  | { type: 'own_restart'; at: number; active: boolean };

export type Decision =
  | {
      kind: 'down';
      cause: DownCause;
      exitCode: number | null;
      since: number;
      incidentKey: string;
      /** The incident was already open (a crash while recovering, or an unhealthy container that died). */
      continued: boolean;
      /** A downtime alert should go out now (new incident, or an unhealthy one escalating). */
      alert: boolean;
      crashesInWindow: number;
      reconciled: boolean;
    }
  | { kind: 'unhealthy'; since: number; incidentKey: string }
  | {
      kind: 'recovered';
      incidentKey: string;
      opened: IncidentKind;
      since: number;
      backAt: number;
      outageMs: number;
    }
  | { kind: 'crash_loop'; incidentKey: string; crashesInWindow: number; since: number }
  | { kind: 'stopped_by_owner'; at: number; exitCode: number | null; removed: boolean }
  | { kind: 'intended'; action: string; at: number }
  | { kind: 'removed'; incidentKey: string; intended: boolean; at: number }
  | { kind: 'late_stop'; at: number };

export interface StepResult {
  state: ContainerState;
  decisions: Decision[];
  /** When the caller must feed a tick (grace or stability deadline), or null. */
  wakeAt: number | null;
  /** The container is gone (destroy): forget it. */
  forget: boolean;
}

export function initialState(phase: Phase = 'running', startedAt: number | null = null): ContainerState {
  return {
    phase,
    incident: null,
    kill: null,
    intendedSeen: false,
    ownRestart: null,
    oom: false,
    pendingDie: null,
    startedAt,
    healthyAt: null,
    crashes: [],
  };
}

export function incidentKey(
  kind: IncidentKind,
  facts: Pick<ContainerFacts, 'service' | 'id'>,
  since: number,
) {
  return `${kind}:${facts.service}:${facts.id.slice(0, 12)}:${since}`;
}

type EventInput = Extract<MonitorInput, { type: 'event' }>;

/** One step in the making: the state it changes, the decisions it collects, whether to forget. */
interface Stepping {
  s: ContainerState;
  facts: ContainerFacts;
  rules: ContainerRules;
  decisions: Decision[];
  forget: boolean;
}

export function step(
  prev: ContainerState,
  facts: ContainerFacts,
  input: MonitorInput,
  rules: ContainerRules = DEFAULT_CONTAINER_RULES,
): StepResult {
  const st: Stepping = {
    s: { ...prev, crashes: [...prev.crashes] },
    facts,
    rules,
    decisions: [],
    forget: false,
  };
  const { s } = st;

  if (input.type === 'tick') {
    if (s.phase === 'exit_pending' && s.pendingDie && input.at >= s.pendingDie.at + rules.ownerStopGraceMs) {
      goDown(st, s.pendingDie.at, 'killed', s.pendingDie.exitCode, false);
    }
    maybeRecovered(st, input.at);
    return done(st);
  }

  if (input.type === 'own_restart') {
    s.ownRestart = input.active ? { killed: false } : null;
    return done(st);
  }

  // The kill of the monitor's own restart is Helm's (and so, through the latch, its die and stop).
  const ownKill = input.action === 'kill' && s.ownRestart !== null;
  if (ownKill) s.ownRestart = { killed: true };
  const e = { ...input, intended: input.intended || ownKill };
  // Only a stop sequence latches: health events during Helm's own health gate must not make a later
  // crash of this run look intended.
  if (e.intended && STOP_SEQUENCE.has(e.action)) s.intendedSeen = true;
  ON_EVENT[e.action](st, e);
  return done(st);
}

/** What each Docker event does to the state. */
const ON_EVENT: Readonly<Record<EventInput['action'], (st: Stepping, e: EventInput) => void>> = {
  start: onStart,
  // Always follows its start, which did the work; it ends a restart of the monitor's own.
  restart: ({ s }) => {
    s.ownRestart = null;
  },
  kill: ({ s }, e) => {
    s.kill = { at: e.at, signal: e.signal ?? null };
  },
  oom: ({ s }) => {
    s.oom = true;
  },
  die: onDie,
  stop: onStop,
  destroy: onDestroy,
  health_status: onHealthStatus,
};

function onStart(st: Stepping, e: EventInput) {
  const { s } = st;
  s.kill = null;
  s.oom = false;
  s.intendedSeen = false;
  // The start after the restart's own kill ends it; a start before it (the container was started
  // again just before Helm's restart reached Docker) does not.
  if (s.ownRestart?.killed) s.ownRestart = null;
  s.pendingDie = null;
  s.startedAt = e.at;
  s.healthyAt = null;
  if (s.incident) {
    s.phase = 'recovering';
    maybeRecovered(st, e.at);
  } else {
    s.phase = 'running';
  }
}

function onDie(st: Stepping, e: EventInput) {
  const { s } = st;
  const exitCode = e.exitCode ?? null;
  if (s.intendedSeen) {
    st.decisions.push({ kind: 'intended', action: 'die', at: e.at });
    // An incident Helm's own change interrupts (restarting an unhealthy service) stays open.
    s.phase = s.incident ? 'down' : 'stopped';
    s.startedAt = null;
    s.healthyAt = null;
    return;
  }
  if (e.reconciled) {
    goDown(st, e.at, s.oom ? 'oom' : 'crash', exitCode, true);
    return;
  }
  if (s.kill !== null && !s.oom) {
    s.phase = 'exit_pending';
    s.pendingDie = { at: e.at, exitCode };
    return;
  }
  goDown(st, e.at, s.oom ? 'oom' : 'crash', exitCode, false);
}

function onStop(st: Stepping, e: EventInput) {
  const { s } = st;
  if (s.phase === 'exit_pending' && s.pendingDie) {
    settlePendingExit(st, 'stop', e.at);
    s.phase = s.incident ? 'down' : 'stopped';
    s.pendingDie = null;
    s.startedAt = null;
  } else if (s.phase === 'down' && s.incident && s.kill !== null && !s.intendedSeen) {
    // The stop came after the grace: the downtime alert is out; the run log says what it was.
    st.decisions.push({ kind: 'late_stop', at: e.at });
  }
}

function onDestroy(st: Stepping, e: EventInput) {
  const { s } = st;
  if (s.phase === 'exit_pending' && s.pendingDie) settlePendingExit(st, 'destroy', e.at);
  if (s.incident) {
    st.decisions.push({ kind: 'removed', incidentKey: s.incident.key, intended: s.intendedSeen, at: e.at });
    s.incident = null;
  }
  s.phase = 'stopped';
  st.forget = true;
}

function onHealthStatus(st: Stepping, e: EventInput) {
  const { s } = st;
  if (e.health === 'unhealthy') {
    if (s.phase !== 'running') return; // down, recovering or stopped: the incident (if any) says it
    if (s.intendedSeen || e.intended) {
      st.decisions.push({ kind: 'intended', action: 'health_status', at: e.at });
      return;
    }
    s.incident = {
      key: incidentKey('unhealthy', st.facts, e.at),
      opened: 'unhealthy',
      downAlerted: false,
      crashLoopRaised: false,
      since: e.at,
    };
    s.phase = 'unhealthy';
    st.decisions.push({ kind: 'unhealthy', since: e.at, incidentKey: s.incident.key });
  } else if (e.health === 'healthy') {
    if (s.phase === 'unhealthy' && s.incident) {
      st.decisions.push({
        kind: 'recovered',
        incidentKey: s.incident.key,
        opened: s.incident.opened,
        since: s.incident.since,
        backAt: e.at,
        outageMs: Math.max(0, e.at - s.incident.since),
      });
      s.incident = null;
      s.phase = 'running';
    } else if (s.phase === 'recovering') {
      s.healthyAt ??= e.at;
      maybeRecovered(st, e.at);
    }
  } else if (s.phase === 'recovering') {
    s.healthyAt = null; // "starting" again: wait for healthy
  }
}

function goDown(st: Stepping, at: number, cause: DownCause, exitCode: number | null, reconciled: boolean) {
  const { s, facts, rules } = st;
  s.crashes = [...s.crashes.filter((t) => t > at - rules.crashLoopWindowMs), at];
  const continued = s.incident !== null;
  let alert = false;
  if (!s.incident) {
    s.incident = {
      key: incidentKey('downtime', facts, at),
      opened: 'downtime',
      downAlerted: true,
      crashLoopRaised: false,
      since: at,
    };
    alert = true;
  } else if (!s.incident.downAlerted) {
    s.incident = { ...s.incident, downAlerted: true };
    alert = true;
  }
  s.phase = 'down';
  s.pendingDie = null;
  s.startedAt = null;
  s.healthyAt = null;
  const incident = s.incident;
  st.decisions.push({
    kind: 'down',
    cause,
    exitCode,
    since: incident.since,
    incidentKey: incident.key,
    continued,
    alert,
    crashesInWindow: s.crashes.length,
    reconciled,
  });
  if (s.crashes.length > rules.maxRestarts && !incident.crashLoopRaised) {
    s.incident = { ...incident, crashLoopRaised: true };
    st.decisions.push({
      kind: 'crash_loop',
      incidentKey: incident.key,
      crashesInWindow: s.crashes.length,
      since: incident.since,
    });
  }
}

/** An exit held for its stop or destroy: Helm's own, or the owner stopping (removing) it. */
function settlePendingExit(st: Stepping, action: 'stop' | 'destroy', at: number) {
  const { s } = st;
  if (!s.pendingDie) return;
  if (s.intendedSeen) st.decisions.push({ kind: 'intended', action, at });
  else
    st.decisions.push({
      kind: 'stopped_by_owner',
      at: s.pendingDie.at,
      exitCode: s.pendingDie.exitCode,
      removed: action === 'destroy',
    });
}

function maybeRecovered(st: Stepping, now: number) {
  const { s, facts, rules } = st;
  if (s.phase !== 'recovering' || !s.incident || s.startedAt === null) return;
  if (facts.hasDockerHealthcheck && s.healthyAt === null) return;
  if (now < s.startedAt + rules.recoveryStableMs) return;
  const backAt = facts.hasDockerHealthcheck ? Math.max(s.startedAt, s.healthyAt ?? 0) : s.startedAt;
  st.decisions.push({
    kind: 'recovered',
    incidentKey: s.incident.key,
    opened: s.incident.opened,
    since: s.incident.since,
    backAt,
    outageMs: Math.max(0, backAt - s.incident.since),
  });
  s.incident = null;
  s.phase = 'running';
}

function done({ s, facts, rules, decisions, forget }: Stepping): StepResult {
  let wakeAt: number | null = null;
  if (s.phase === 'exit_pending' && s.pendingDie) wakeAt = s.pendingDie.at + rules.ownerStopGraceMs;
  else if (s.phase === 'recovering' && s.startedAt !== null && (!facts.hasDockerHealthcheck || s.healthyAt))
    wakeAt = s.startedAt + rules.recoveryStableMs;
  return { state: s, decisions, wakeAt, forget };
}

/** Whether Docker's own restart policy brings the container back after this exit (reported, not fought). */
export function dockerWillRestart(
  policy: ContainerFacts['restartPolicy'],
  restartCount: number,
  exitCode: number | null,
  cause: DownCause,
): boolean {
  switch (policy.name) {
    case 'always':
    case 'unless-stopped':
      return cause !== 'killed';
    case 'on-failure':
      return (
        cause !== 'killed' &&
        exitCode !== 0 &&
        (policy.maximumRetryCount === 0 || restartCount < policy.maximumRetryCount)
      );
    default:
      return false;
  }
}
