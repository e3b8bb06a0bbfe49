import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { AlertInput } from '../bus/alert-sender.js';
import type { Scope } from '../config/config.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { isManaged } from '../docker/scope.js';
import { serviceOf } from './container-facts.js';
import type { WatchOutputs } from './watcher-types.js';
import { alertTarget } from './monitor-alerts.js';

/**
 * log_growth: managed containers whose json-file logs have no size limit (no `max-size` in their
 * HostConfig.LogConfig, where Docker also puts the daemon's log-opts) and whose log file (LogPath,
 * read on the disk holding Docker's data root, under hostRoot when Helm runs in a container) has
 * grown past a threshold are reported once per container (warning). Helm never truncates or
 * deletes a container's log: that is the owner's decision.
 */
export interface LogGrowthRules {
  /** @defaultValue 1 GiB */
  thresholdBytes: number;
  /** @defaultValue 300_000 (5 minutes) */
  checkMs: number;
}

export const DEFAULT_LOG_GROWTH_RULES: Readonly<LogGrowthRules> = Object.freeze({
  thresholdBytes: 1024 ** 3,
  checkMs: 300_000,
});

/** The json-file log file whose size Helm checks, or null (limited, another driver, or no file). */
export function unlimitedJsonLog(info: Pick<ContainerInspect, 'HostConfig' | 'LogPath'>): string | null {
  const cfg = info.HostConfig?.LogConfig;
  const type = cfg?.Type ?? 'json-file';
  if (type !== 'json-file') return null;
  const maxSize = (cfg?.Config as Record<string, string> | undefined)?.['max-size'];
  if (maxSize !== undefined && maxSize !== '' && maxSize !== '-1') return null;
  return info.LogPath ? info.LogPath : null;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function logGrowthAlert(
  c: { id: string; name: string; service: string },
  logPath: string,
  sizeBytes: number,
  thresholdBytes: number,
  host: string,
): AlertInput {
  return {
    severity: 'warning',
    kind: 'log_growth',
    ...alertTarget(c.service),
    message:
      `${c.name}'s json-file log has no size limit and is ${formatBytes(sizeBytes)} on ${host} ` +
      `(above ${formatBytes(thresholdBytes)}): set log-opts max-size/max-file for it (Helm does not ` +
      'truncate or delete container logs)',
    details: {
      container: c.name,
      container_id: c.id.slice(0, 12),
      service: c.service,
      log_path: logPath,
      size_bytes: sizeBytes,
      threshold_bytes: thresholdBytes,
      host,
    },
    dedup_key: `log_growth:${c.service}:${c.id.slice(0, 12)}`,
  };
}

export interface LogGrowthDeps extends WatchOutputs {
  docker: Pick<DockerReads, 'listContainers' | 'inspectContainer'>;
  scope: Scope;
  /** Where the host's root is mounted (`/`, or `/host` in a container). */
  hostRoot: string;
  rules?: Partial<LogGrowthRules>;
}

export interface LogGrowthWatch {
  /** One pass; resolves to the alerts sent. */
  checkNow(): Promise<AlertInput[]>;
  close(): void;
}

export function startLogGrowthWatch(deps: LogGrowthDeps): LogGrowthWatch {
  const rules: LogGrowthRules = { ...DEFAULT_LOG_GROWTH_RULES, ...deps.rules };
  const reported = new Set<string>();
  let running: Promise<AlertInput[]> | null = null;

  async function pass(): Promise<AlertInput[]> {
    const listed = (await deps.docker.listContainers()).filter((c) => isManaged(c.labels, deps.scope));
    const ids = new Set(listed.map((c) => c.id));
    for (const id of reported) if (!ids.has(id)) reported.delete(id);
    const out: AlertInput[] = [];
    for (const c of listed) {
      if (reported.has(c.id)) continue;
      const info = await deps.docker.inspectContainer(c.id).catch(() => null);
      const logPath = info ? unlimitedJsonLog(info) : null;
      if (!logPath) continue;
      const size = await stat(path.join(deps.hostRoot, logPath)).then(
        (s) => s.size,
        () => null,
      );
      if (size === null || size <= rules.thresholdBytes) continue;
      reported.add(c.id);
      const alert = logGrowthAlert(
        { id: c.id, name: c.name, service: serviceOf(c.labels, c.name) },
        logPath,
        size,
        rules.thresholdBytes,
        deps.host,
      );
      out.push(alert);
      await Promise.all([
        deps.alerts.send(alert),
        deps.runLog
          .append({
            ...(alert.target ? { target: alert.target } : {}),
            event: 'log_growth',
            message: `${alert.message} [${alert.dedup_key}]`,
          })
          .catch((err) => deps.logger.error({ err }, 'monitor: could not log')),
      ]);
    }
    return out;
  }

  function checkNow(): Promise<AlertInput[]> {
    running ??= pass().finally(() => {
      running = null;
    });
    return running;
  }

  const tick = () =>
    void checkNow().catch((err) => deps.logger.warn({ err }, 'monitor: the log-growth check failed'));
  const timer = setInterval(tick, rules.checkMs);
  timer.unref?.();
  tick();
  return { checkNow, close: () => clearInterval(timer) };
}
