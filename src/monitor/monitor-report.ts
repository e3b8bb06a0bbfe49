import { helmKey } from '../bus/queue-names.js';
import type { Clock } from '../base/clock.js';
import type { ContainerUsage } from './container-stats.js';
import type { WatcherLogger } from './event-watcher.js';
import type { PingState } from './pings.js';

/**
 * What the monitor sees now, kept in Redis for `helm doctor` and a later status page (they run in
 * other processes): each managed container's latest CPU % and memory %, the health pings' verdicts
 * and whether helm.actions is keeping up. Rewritten on an interval with a TTL of three intervals
 * (at least a minute), so a monitor that stopped leaves no stale report behind for long.
 */
export interface MonitorReport {
  at: string;
  host: string;
  containers: ContainerUsage[];
  pings: Array<{ id: string; service: string; check: string } & PingState>;
  queues: { actions: 'ok' | 'degraded' } | null;
}

/** Where the report is kept: a key with an expiry in ms (Redis's `SET key value PX ms`; an ioredis client is one). */
export interface ReportStore {
  set(key: string, value: string, expiry: 'PX', ttlMs: number): Promise<unknown>;
}

export function monitorReportKey(prefix: string, host: string): string {
  return helmKey(prefix, 'monitor', host);
}

export function startMonitorReport(deps: {
  redis: ReportStore;
  prefix: string;
  host: string;
  clock: Clock;
  logger: WatcherLogger;
  read(): Omit<MonitorReport, 'at' | 'host'>;
  /** @defaultValue 15_000 */
  intervalMs?: number;
}): { publishNow(): Promise<MonitorReport>; close(): void } {
  const intervalMs = deps.intervalMs ?? 15_000;
  async function publishNow(): Promise<MonitorReport> {
    const report: MonitorReport = { at: deps.clock.now().toISOString(), host: deps.host, ...deps.read() };
    await deps.redis.set(
      monitorReportKey(deps.prefix, deps.host),
      JSON.stringify(report),
      'PX',
      Math.max(intervalMs * 3, 60_000),
    );
    return report;
  }
  const tick = () =>
    void publishNow().catch((err) => deps.logger.warn({ err }, 'monitor: could not publish its report'));
  const timer = setInterval(tick, intervalMs);
  timer.unref?.();
  tick();
  return { publishNow, close: () => clearInterval(timer) };
}
