import type { AlertInput } from '../bus/alert-sender.js';
import type { RunLogEntryInput } from '../runlog/index.js';
import { type AlertHygiene, makeAlertHygiene } from './alert-hygiene.js';
import type { EventWatcherDeps, WatcherRules } from './watcher-types.js';

/**
 * The event watcher's two effects: run-log entries, and alerts through the hygiene (dedup, grouping
 * of a host's downtimes, repeats of what stays down), whose timer sends the repeats.
 */
export function makeWatcherEffects(
  deps: Pick<EventWatcherDeps, 'alerts' | 'runLog' | 'logger' | 'host'>,
  rules: WatcherRules,
  now: () => number,
  closed: () => boolean,
): {
  log(entry: RunLogEntryInput): Promise<boolean>;
  send(alert: AlertInput): Promise<void>;
  stop(): void;
} {
  const hygiene: AlertHygiene = makeAlertHygiene(rules, `downtime:group:${deps.host}`);
  let hygieneTimer: NodeJS.Timeout | null = null;

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
    if (closed()) return;
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

  return {
    log,
    send,
    stop() {
      if (hygieneTimer) clearTimeout(hygieneTimer);
    },
  };
}
