import type { AlertSender } from '../bus/alert-sender.js';
import type { IncidentBoardWriter } from '../bus/incident-board.js';
import type { Clock } from '../base/clock.js';
import { EMPTY_INCIDENT_BOOK, type IncidentBookState, recordAlert } from './incident-book.js';
import type { WatcherLogger } from './watcher-types.js';

/**
 * Publishes the monitor's incidents for the status page (a thin side effect: incident-book.ts
 * decides). It stands between the monitor and its alert sender: every alert the monitor sends also
 * goes through the book, and the board is written at once when the book changed and again every
 * `refreshMs` with a TTL of three of them, so a monitor that stopped goes silent instead of leaving
 * its incidents behind as if current. A write that fails is logged; alerts never wait on it failing.
 */
export interface IncidentPublisher {
  /** The monitor's alert sender, with every alert recorded in the book. */
  alerts: Pick<AlertSender, 'send'>;
  /** Writes the board now (tests; the timer does it otherwise). */
  publishNow(): Promise<void>;
  /** Stops refreshing; the board expires on its own. */
  close(): void;
}

export const INCIDENT_TTL_FACTOR = 3;

export function startIncidentPublisher(deps: {
  alerts: Pick<AlertSender, 'send'>;
  board: IncidentBoardWriter;
  clock: Clock;
  logger: WatcherLogger;
  host: string;
  /** @defaultValue 10_000 */
  refreshMs?: number;
}): IncidentPublisher {
  const refreshMs = deps.refreshMs ?? 10_000;
  let book: IncidentBookState = EMPTY_INCIDENT_BOOK;
  // Writes run one at a time so an older board never lands after a newer one.
  let writing: Promise<void> = Promise.resolve();
  const publishNow = (): Promise<void> => {
    writing = writing.then(async () => {
      const snapshot = book;
      try {
        await deps.board.write(
          {
            host: deps.host,
            at: deps.clock.now().toISOString(),
            refresh_ms: refreshMs,
            open: [...snapshot.open.values()],
            closed: [...snapshot.closed],
          },
          refreshMs * INCIDENT_TTL_FACTOR,
        );
      } catch (err) {
        deps.logger.warn({ err }, 'monitor: could not publish its incidents');
      }
    });
    return writing;
  };
  const timer = setInterval(() => void publishNow(), refreshMs);
  timer.unref?.();
  void publishNow();
  return {
    alerts: {
      async send(input) {
        const next = recordAlert(book, input, deps.clock.now());
        book = next.book;
        if (next.changed) void publishNow();
        return deps.alerts.send(input);
      },
    },
    publishNow,
    close: () => clearInterval(timer),
  };
}
