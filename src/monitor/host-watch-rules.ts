import type { HostInventory } from '../bus/host-inventory.js';

/**
 * Which other hosts went dark or came back (pure; issue 13, contract 1.5 decision 95). A host is down
 * when it is known on the bus and publishes no inventory (its monitor has not refreshed it within three
 * heartbeat intervals). Severity: critical unless this watcher last saw it hold no production service
 * (never seen alive counts as production: in doubt, production). The host running the watcher is never
 * judged by itself: a Helm that cannot write its inventory cannot send an alert either.
 */
export interface HostWatchState {
  /** The last inventory seen per host, while it was live. */
  lastSeen: ReadonlyMap<string, HostInventory>;
  /** The hosts this watcher currently considers down. */
  down: ReadonlySet<string>;
}

export const EMPTY_HOST_WATCH: HostWatchState = { lastSeen: new Map(), down: new Set() };

export type HostChange =
  | { kind: 'down'; host: string; severity: 'warning' | 'critical'; lastSeenAt: string | null }
  | { kind: 'back'; host: string };

export function judgeHosts(
  state: HostWatchState,
  read: { live: readonly HostInventory[]; silent: readonly string[] },
  ownHost: string,
): { state: HostWatchState; changes: HostChange[] } {
  const lastSeen = new Map(state.lastSeen);
  const down = new Set(state.down);
  const changes: HostChange[] = [];
  for (const inv of read.live) {
    lastSeen.set(inv.host, inv);
    if (down.delete(inv.host)) changes.push({ kind: 'back', host: inv.host });
  }
  for (const host of read.silent) {
    if (host === ownHost || down.has(host)) continue;
    down.add(host);
    const seen = lastSeen.get(host);
    const production = !seen || seen.services.some((s) => s.environment === 'production');
    changes.push({
      kind: 'down',
      host,
      severity: production ? 'critical' : 'warning',
      lastSeenAt: seen?.at ?? null,
    });
  }
  return { state: { lastSeen, down }, changes };
}
