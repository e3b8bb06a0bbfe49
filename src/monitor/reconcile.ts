import type { MonitorInput, Phase } from './container-state.js';

/**
 * After the events stream was lost (or at start), compare what Docker shows now with what the monitor
 * knew, and turn the difference into the events it missed (pure). StartedAt tells a new run apart,
 * FinishedAt when the last one ended, so a container that died and was restarted (by Docker's
 * restart policy, or anyone) while nobody listened is still reported, with its real times.
 */
export interface Observed {
  id: string;
  running: boolean;
  /** Docker's health status, null without a HEALTHCHECK. */
  health: string | null;
  /** Docker's StartedAt of the last run (ms), null if it never ran. */
  startedAt: number | null;
  /** Docker's FinishedAt of the last run that ended (ms), null if none did. */
  finishedAt: number | null;
  restartCount: number;
  exitCode: number | null;
  oomKilled: boolean;
}

export interface Known {
  phase: Phase;
  /** Docker's StartedAt of the last run the monitor knows of. */
  lastStartedAt: number | null;
  restartCount: number;
}

/** The phases in which the monitor believes the container runs. */
const UP: ReadonlySet<Phase> = new Set(['running', 'unhealthy', 'recovering', 'exit_pending']);

export interface ReconcileOptions {
  now: number;
  /** Helm itself is changing the container's service now. */
  intended: boolean;
  /**
   * For a container the monitor did not know: report a run that ended after this time (the stream
   * was lost then). null at start-up: an unknown stopped container is only noted.
   */
  blindSince: number | null;
}

export function reconcileInputs(
  known: Known | undefined,
  seen: Observed | undefined,
  opts: ReconcileOptions,
): MonitorInput[] {
  const { now, intended } = opts;
  const ev = (
    action: Extract<MonitorInput, { type: 'event' }>['action'],
    at: number,
    extra: Partial<Extract<MonitorInput, { type: 'event' }>> = {},
  ): MonitorInput => ({ type: 'event', action, at, intended, reconciled: true, ...extra });

  if (!seen) return known ? [ev('destroy', now)] : [];

  const died = (at: number): MonitorInput[] => [
    ...(seen.oomKilled ? [ev('oom', at)] : []),
    ev('die', at, { exitCode: seen.exitCode }),
  ];
  const health = (): MonitorInput[] =>
    seen.health === 'unhealthy' || seen.health === 'healthy'
      ? [ev('health_status', now, { health: seen.health })]
      : [];
  const startedAt = seen.startedAt ?? now;

  if (!known) {
    if (seen.running) return [ev('start', startedAt), ...health()];
    const endedWhileBlind =
      opts.blindSince !== null && seen.finishedAt !== null && seen.finishedAt >= opts.blindSince;
    return endedWhileBlind && seen.startedAt !== null
      ? [ev('start', startedAt), ...died(seen.finishedAt ?? now)]
      : [];
  }

  const up = UP.has(known.phase);
  const newRun = seen.startedAt !== null && seen.startedAt !== known.lastStartedAt;
  if (seen.running) {
    if (newRun) {
      // The run the monitor knew ended when this one's predecessor finished.
      const before = up ? died(Math.min(seen.finishedAt ?? startedAt, startedAt)) : [];
      return [...before, ev('start', startedAt), ...health()];
    }
    if (!up) return [ev('start', startedAt), ...health()];
    if (seen.health === 'unhealthy' && known.phase === 'running') return health();
    if (seen.health === 'healthy' && (known.phase === 'unhealthy' || known.phase === 'recovering'))
      return health();
    return [];
  }
  const end = seen.finishedAt ?? now;
  if (up) return died(end);
  return newRun ? [ev('start', startedAt), ...died(end)] : [];
}

/** Docker's zero time ("0001-01-01T00:00:00Z") and unparseable values are null. */
export function dockerTime(value: string | undefined | null): number | null {
  if (!value || value.startsWith('0001-')) return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : null;
}
