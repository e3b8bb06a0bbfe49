import { stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import si from 'systeminformation';
import type { AlertInput, AlertSender } from '../bus/alert-sender.js';
import type { Clock } from '../base/clock.js';
import type { RunLog, RunLogEntryInput } from '../runlog/index.js';
import { formatDuration } from './monitor-alerts.js';
import {
  DEFAULT_RESOURCE_RULES,
  evaluateRule,
  impossibleReading,
  type Metric,
  RULE_OK,
  type ResourceRule,
  type ResourceRules,
  type RuleEmit,
  type RuleState,
  ruleDetails,
} from './resource-rules.js';

/**
 * Host resources: CPU, memory and the filesystems holding `/`, Docker's data root and Helm's memory
 * folder, sampled on an interval and fed to the hysteresis rules. When Helm runs in a container the
 * host's root is mounted read-only (node_exporter's way: `-v /:/host:ro`) and `hostRoot` is `/host`.
 */
export interface DiskSample {
  /** The paths (as the host names them) that live on this filesystem. */
  paths: string[];
  usedPercent: number;
  sizeBytes: number;
  availableBytes: number;
}

export interface HostMetrics {
  /** null when not known yet (the first CPU sample has nothing to compare with). */
  cpuPercent: number | null;
  memoryPercent: number | null;
  disks: DiskSample[];
}

export interface MetricsSource {
  sample(): Promise<HostMetrics>;
}

export interface DiskPath {
  /** How alerts name it: the host's path (`/`, `/var/lib/docker`) or Helm's memory folder. */
  label: string;
  /** Where this process reads it (`/host/var/lib/docker` when Helm runs in a container). */
  path: string;
}

/** `/`, Docker's data root (host paths, read under hostRoot) and Helm's memory folder (Helm's own path). */
export function defaultDiskPaths(opts: {
  hostRoot: string;
  dockerRootDir: string | null;
  memoryDir: string;
}): DiskPath[] {
  const onHost = (p: string) => path.join(opts.hostRoot, p).replace(/(.)\/+$/, '$1');
  return [
    { label: '/', path: onHost('/') },
    ...(opts.dockerRootDir ? [{ label: opts.dockerRootDir, path: onHost(opts.dockerRootDir) }] : []),
    { label: opts.memoryDir, path: opts.memoryDir },
  ];
}

/** systeminformation for CPU and memory, statfs for disks (df's arithmetic: reserved blocks excluded). */
export function makeHostMetricsSource(disks: readonly DiskPath[]): MetricsSource {
  let first = true;
  return {
    async sample() {
      const [load, mem, diskSamples] = await Promise.all([si.currentLoad(), si.mem(), sampleDisks(disks)]);
      // The first reading compares with nothing meaningful: skip it.
      const cpu = first ? null : load.currentLoad;
      first = false;
      return {
        cpuPercent: Number.isFinite(cpu) ? cpu : null,
        memoryPercent: mem.total > 0 ? ((mem.total - mem.available) / mem.total) * 100 : null,
        disks: diskSamples,
      };
    },
  };
}

export async function sampleDisks(disks: readonly DiskPath[]): Promise<DiskSample[]> {
  const byDevice = new Map<number, DiskSample>();
  for (const d of disks) {
    try {
      const [fs, st] = await Promise.all([statfs(d.path), stat(d.path)]);
      const seen = byDevice.get(st.dev);
      if (seen) {
        if (!seen.paths.includes(d.label)) seen.paths.push(d.label);
        continue;
      }
      const used = (fs.blocks - fs.bfree) * fs.bsize;
      const avail = fs.bavail * fs.bsize;
      byDevice.set(st.dev, {
        paths: [d.label],
        usedPercent: used + avail > 0 ? (used / (used + avail)) * 100 : 0,
        sizeBytes: fs.blocks * fs.bsize,
        availableBytes: avail,
      });
    } catch {
      // A path that does not exist (no Docker root mounted) is simply not watched.
    }
  }
  return [...byDevice.values()];
}

export interface ResourceMonitorDeps {
  source: MetricsSource;
  clock: Clock;
  alerts: Pick<AlertSender, 'send'>;
  runLog: Pick<RunLog, 'append'>;
  logger: { warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  host: string;
  rules?: Partial<ResourceRules>;
  /** @defaultValue 15_000 */
  intervalMs?: number;
  /** Disk at or above this percent is critical, below it warning. @defaultValue 95 */
  diskCriticalPercent?: number;
  /** false: no timer, the caller drives `sampleNow` (tests with a manual clock). @defaultValue true */
  autoStart?: boolean;
}

export interface ResourceMonitor {
  /** Takes one sample and acts on it; resolves to the alerts sent. */
  sampleNow(): Promise<AlertInput[]>;
  close(): void;
}

const KIND: Record<Metric, 'cpu_high' | 'memory_high' | 'disk_high'> = {
  cpu: 'cpu_high',
  memory: 'memory_high',
  disk: 'disk_high',
};

export function startResourceMonitor(deps: ResourceMonitorDeps): ResourceMonitor {
  const rules: ResourceRules = { ...DEFAULT_RESOURCE_RULES, ...deps.rules };
  const intervalMs = deps.intervalMs ?? 15_000;
  const diskCritical = deps.diskCriticalPercent ?? 95;
  const states = new Map<string, RuleState>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  async function sampleNow(): Promise<AlertInput[]> {
    const m = await deps.source.sample();
    const now = deps.clock.now().getTime();
    const out: Array<{ alert: AlertInput; log: RunLogEntryInput }> = [];
    const check = (key: string, metric: Metric, value: number | null, what: string, extra = {}) => {
      if (value === null) return;
      // Every host reading is in percent of the whole: an impossible one is dropped, never evaluated.
      const problem = impossibleReading(value, 100);
      if (problem) {
        deps.logger.warn(
          { metric, key, value, problem },
          'monitor: an impossible host resource reading was dropped',
        );
        return;
      }
      const rule = rules[metric];
      const r = evaluateRule(states.get(key) ?? RULE_OK, value, now, rule);
      states.set(key, r.state);
      if (r.emit)
        out.push(describeEmit({ host: deps.host, diskCritical }, metric, key, what, r.emit, rule, extra));
    };
    check('cpu', 'cpu', m.cpuPercent, `CPU on ${deps.host}`);
    check('memory', 'memory', m.memoryPercent, `memory on ${deps.host}`);
    for (const d of m.disks) {
      check(`disk:${d.paths[0]}`, 'disk', d.usedPercent, `disk ${d.paths.join(', ')} on ${deps.host}`, {
        paths: d.paths,
        size_bytes: d.sizeBytes,
        available_bytes: d.availableBytes,
      });
    }
    await Promise.all(
      out.flatMap(({ alert, log }) => [
        deps.alerts.send(alert),
        deps.runLog.append(log).catch((err) => deps.logger.error({ err }, 'monitor: could not log')),
      ]),
    );
    return out.map((o) => o.alert);
  }

  function loop() {
    if (closed) return;
    timer = setTimeout(async () => {
      try {
        await sampleNow();
      } catch (err) {
        deps.logger.warn({ err }, 'monitor: a resource sample failed');
      }
      loop();
    }, intervalMs);
    timer.unref?.();
  }
  if (deps.autoStart !== false) {
    void sampleNow().catch((err) => deps.logger.warn({ err }, 'monitor: a resource sample failed'));
    loop();
  }

  return {
    sampleNow,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** A host resource alert and its run-log entry (fire, repeat or resolve; pure). */
function describeEmit(
  at: { host: string; diskCritical: number },
  metric: Metric,
  key: string,
  what: string,
  emit: RuleEmit,
  rule: ResourceRule,
  extra: Record<string, unknown>,
): { alert: AlertInput; log: RunLogEntryInput } {
  const value = Math.round(emit.value * 10) / 10;
  const dedup = `${KIND[metric]}:${at.host}:${key === metric ? '' : `${key.slice(metric.length + 1)}:`}${emit.since}`;
  const details = { ...ruleDetails(emit, rule, at.host), ...extra };
  if (emit.type === 'resolve') {
    const message = `${what} is back to ${value} % (below ${rule.threshold - rule.hysteresis} %) after ${formatDuration(emit.durationMs)} above ${rule.threshold} %`;
    return {
      alert: { severity: 'info', kind: 'resolved', message, details, dedup_key: dedup },
      log: { event: 'resource_resolved', code: KIND[metric], message: `${message} [${dedup}]` },
    };
  }
  const held = rule.windowMs > 0 ? ` for ${formatDuration(rule.windowMs)} or more` : '';
  const message = `${emit.type === 'repeat' ? 'still: ' : ''}${what} is at ${value} % (above ${rule.threshold} %${held}, since ${details.since})`;
  const severity = metric === 'disk' && emit.value >= at.diskCritical ? 'critical' : 'warning';
  return {
    alert: { severity, kind: KIND[metric], message, details, dedup_key: dedup },
    log: {
      event: emit.type === 'repeat' ? 'resource_repeat' : 'resource_high',
      code: KIND[metric],
      message: `${message} [${dedup}]`,
    },
  };
}
