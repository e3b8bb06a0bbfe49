import type { Redis } from 'ioredis';
import type { Clock } from '../base/clock.js';
import type { Logger } from '../log/logger.js';
import { type Heartbeat, heartbeatKeys } from '../contracts/index.js';

/**
 * CONTRACT.md "Heartbeat": one key per Helm process and one for Helm as a whole, each refreshed
 * every 10 s with a 30 s TTL. A watcher that finds the shared key missing knows Helm is gone.
 */
export interface HeartbeatOptions {
  redis: Redis;
  prefix: string;
  instance: string;
  host: string;
  version: string;
  /** The queues this process runs a worker on. */
  workers: ReadonlyArray<string>;
  clock: Clock;
  logger: Logger;
  intervalMs: number;
}

export const HEARTBEAT_TTL_FACTOR = 3;

export function startHeartbeat(o: HeartbeatOptions): { beat(): Promise<void>; stop(): Promise<void> } {
  const ttlMs = o.intervalMs * HEARTBEAT_TTL_FACTOR;
  const keys = heartbeatKeys(o.prefix, o.instance);
  const beat = async () => {
    const heartbeat: Heartbeat = {
      at: o.clock.now().toISOString(),
      host: o.host,
      pid: process.pid,
      version: o.version,
      workers: [...o.workers],
    };
    const value = JSON.stringify(heartbeat);
    await o.redis.multi().set(keys.instance, value, 'PX', ttlMs).set(keys.any, value, 'PX', ttlMs).exec();
  };
  const tick = () => beat().catch((err) => o.logger.warn({ err }, 'heartbeat could not be written'));
  void tick();
  const timer = setInterval(tick, o.intervalMs);
  timer.unref();
  return {
    beat,
    async stop() {
      clearInterval(timer);
      // This process is gone at once; the shared key lives on while other instances refresh it.
      await o.redis.del(keys.instance).catch(() => undefined);
    },
  };
}
