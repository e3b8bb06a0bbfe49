import type { Clock } from '../base/clock.js';
import type { AlertSender } from '../bus/alert-sender.js';
import type { HostDownClaims, InventoryReader } from '../bus/host-inventory.js';
import { EMPTY_HOST_WATCH, type HostChange, judgeHosts } from './host-watch-rules.js';
import type { WatcherLogger } from './watcher-types.js';

/**
 * Watches the other hosts on the bus (issue 13; the decisions are host-watch-rules.ts): every
 * `intervalMs` it reads the inventory, and for a host gone dark or back sends `host_down` or
 * `recovered`, once per incident on the whole bus (HostDownClaims). A failed read is logged and tried
 * again at the next tick.
 */
export function startHostWatch(deps: {
  reader: InventoryReader;
  claims: HostDownClaims;
  alerts: Pick<AlertSender, 'send'>;
  clock: Clock;
  logger: WatcherLogger;
  host: string;
  /** How long a host may publish nothing before it is down (for the message: three refreshes). */
  boundMs: number;
  intervalMs: number;
}): { checkNow(): Promise<void>; close(): void } {
  let state = EMPTY_HOST_WATCH;
  let checking: Promise<void> = Promise.resolve();
  const checkNow = (): Promise<void> => {
    checking = checking.then(async () => {
      try {
        const judged = judgeHosts(state, await deps.reader.read(), deps.host);
        state = judged.state;
        for (const change of judged.changes) await report(change);
      } catch (err) {
        deps.logger.warn({ err }, 'monitor: could not check the other hosts');
      }
    });
    return checking;
  };
  async function report(change: HostChange): Promise<void> {
    if (change.kind === 'back') {
      const dedupKey = await deps.claims.release(change.host);
      if (dedupKey === null) return;
      await deps.alerts.send({
        severity: 'info',
        kind: 'recovered',
        target: change.host,
        message: `host ${change.host} publishes again: its Helm is back, and its waiting requests go on`,
        dedup_key: dedupKey,
      });
      return;
    }
    const dedupKey = `host_down:${change.host}:${deps.clock.now().getTime()}`;
    if (!(await deps.claims.claim(change.host, dedupKey))) return;
    const production = change.severity === 'critical';
    await deps.alerts.send({
      severity: change.severity,
      kind: 'host_down',
      target: change.host,
      ...(production ? { environment: 'production' as const } : {}),
      message:
        `host ${change.host} has published nothing for over ${Math.round(deps.boundMs / 1000)} s ` +
        `(last report ${change.lastSeenAt ?? 'never seen by this Helm'}): its Helm stopped or cannot reach Redis. ` +
        'Its requests wait for it (never sent to another host) and expire at their deadlines.',
      details: { host: change.host, last_seen_at: change.lastSeenAt },
      dedup_key: dedupKey,
    });
  }
  const timer = setInterval(() => void checkNow(), deps.intervalMs);
  timer.unref?.();
  return { checkNow, close: () => clearInterval(timer) };
}
