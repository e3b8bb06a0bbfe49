import { autoRestart } from './watcher-auto-restart.js';
import { makeWatcherCore } from './watcher-core.js';
import { onContainerEvent, onHealthReport } from './watcher-events.js';
import { reconcile } from './watcher-reconcile.js';
import { startEventStream } from './watcher-stream.js';
import type { EventWatcher, EventWatcherDeps } from './watcher-types.js';

export {
  DEFAULT_WATCHER_RULES,
  type EventWatcher,
  type EventWatcherDeps,
  type HealthReport,
  type RestartOutcome,
  type WatcherLogger,
  type WatcherRules,
} from './watcher-types.js';

/**
 * The event watcher: Docker's container events → the container state machine → alerts (through the
 * hygiene) and run-log entries, within milliseconds of the event. Facts (environment, health check,
 * restart policy) are read when a container starts, so a `die` is judged without a Docker call.
 * When the stream ends it reconnects with backoff, and reconciles: it lists the managed containers
 * and compares state, StartedAt, FinishedAt and RestartCount with what it knew.
 *
 * Its parts: watcher-core.ts (queues, state machine, decisions), watcher-events.ts (an event or a
 * ping's verdict in), watcher-auto-restart.ts, watcher-reconcile.ts, watcher-stream.ts.
 */
export function startEventWatcher(deps: EventWatcherDeps): EventWatcher {
  const core = makeWatcherCore(deps, autoRestart);
  const stream = startEventStream(core, {
    onEvent: (e) => onContainerEvent(core, e),
    reconcile: (blindSince, first) => reconcile(core, blindSince, first),
  });
  return {
    ready: stream.ready,
    connected: stream.connected,
    snapshot: () =>
      [...core.tracked.values()].map((t) => ({
        id: t.facts.id,
        name: t.facts.name,
        service: t.facts.service,
        phase: t.state.phase,
        incident: t.state.incident?.key ?? null,
      })),
    reportHealth: (id, report) => onHealthReport(core, id, report),
    idle: core.idle,
    async close() {
      core.stop();
      stream.stop();
      await stream.ready.catch(() => undefined);
      await core.settled();
    },
  };
}
