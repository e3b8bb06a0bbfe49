import type { Clock } from '../base/clock.js';
import type { InventoryService, InventoryWriter } from '../bus/host-inventory.js';
import type { WatcherLogger } from './watcher-types.js';

/**
 * Publishes what this host holds (issue 13: the bus's inventory, bus/host-inventory.ts) every
 * `refreshMs`, with a TTL of three of them, so a host whose monitor stopped goes silent instead of
 * looking as if it still held its services. A read or write that fails is logged and tried again at
 * the next refresh: what is already there expires on its own.
 */
export const INVENTORY_TTL_FACTOR = 3;

export function startInventoryPublisher(deps: {
  /** This host's services now (wiring/monitor.ts reads them as the status read does). */
  read(): Promise<{ services: InventoryService[]; truncated: boolean }>;
  writer: InventoryWriter;
  clock: Clock;
  logger: WatcherLogger;
  host: string;
  /** @defaultValue 10_000 */
  refreshMs?: number;
}): { publishNow(): Promise<void>; close(): void } {
  const refreshMs = deps.refreshMs ?? 10_000;
  // One write at a time, so an older inventory never lands after a newer one.
  let writing: Promise<void> = Promise.resolve();
  const publishNow = (): Promise<void> => {
    writing = writing.then(async () => {
      try {
        const { services, truncated } = await deps.read();
        await deps.writer.write(
          { host: deps.host, at: deps.clock.now().toISOString(), refresh_ms: refreshMs, services, truncated },
          refreshMs * INVENTORY_TTL_FACTOR,
        );
      } catch (err) {
        deps.logger.warn({ err }, 'monitor: could not publish this host’s inventory');
      }
    });
    return writing;
  };
  const timer = setInterval(() => void publishNow(), refreshMs);
  timer.unref?.();
  void publishNow();
  return { publishNow, close: () => clearInterval(timer) };
}
