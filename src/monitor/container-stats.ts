import os from 'node:os';
import type { AlertInput, AlertSender } from '../bus/alert-sender.js';
import type { Clock } from '../base/clock.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type {
  ContainerStatsSample,
  DockerEvents,
  DockerReads,
  EventSubscription,
} from '../docker/docker-ports.js';
import type { RunLog, RunLogEntryInput } from '../runlog/index.js';
import type { EventWatcher, WatcherLogger } from './event-watcher.js';
import { alertTarget, formatDuration } from './monitor-alerts.js';
import { singleFlight } from './single-flight.js';
import {
  DEFAULT_RESOURCE_RULES,
  evaluateRule,
  impossibleReading,
  RULE_OK,
  type ResourceRule,
  type RuleEmit,
  type RuleState,
  ruleDetails,
} from './resource-rules.js';

/**
 * Per-container CPU and memory, streamed: one Docker stats stream per running managed container
 * (Docker sends a sample a second on it; no call per sample), the latest reading kept for `helm
 * doctor` and the status page, and the host's hysteresis rules applied per container (cpu_high /
 * memory_high, key `<kind>:<host>:<container>:<since ms>`).
 *
 * CPU is in percent of what the container may use: its CPU limit (NanoCpus, or CpuQuota/CpuPeriod)
 * or else all of the host's CPUs, so 100 % means "it has no CPU left"; memory in percent of its
 * memory limit (the host's memory when it has none).
 */
export interface ContainerUsage {
  id: string;
  name: string;
  service: string;
  cpuPercent: number | null;
  memoryPercent: number | null;
  memoryBytes: number;
  memoryLimitBytes: number;
  /** The CPUs it may use (its limit, or the host's count). */
  cpus: number;
  at: string;
}

/** The CPUs a container may use: its NanoCpus or quota/period, else the host's. */
export function cpuAllowance(info: Pick<ContainerInspect, 'HostConfig'>, hostCpus: number): number {
  const hc = info.HostConfig as { NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number } | undefined;
  if (hc?.NanoCpus && hc.NanoCpus > 0) return Math.min(hostCpus, hc.NanoCpus / 1e9);
  if (hc?.CpuQuota && hc.CpuQuota > 0) return Math.min(hostCpus, hc.CpuQuota / (hc.CpuPeriod || 100_000));
  return hostCpus;
}

/** A stats sample in percent of the container's allowance (pure). */
export function usagePercent(
  s: ContainerStatsSample,
  cpus: number,
): { cpuPercent: number | null; memoryPercent: number | null } {
  return {
    cpuPercent: s.cpuPercent === null || cpus <= 0 ? null : s.cpuPercent / cpus,
    memoryPercent: s.memoryLimitBytes > 0 ? (s.memoryBytes / s.memoryLimitBytes) * 100 : null,
  };
}

export interface ContainerStatsDeps {
  events: Pick<DockerEvents, 'streamContainerStats'>;
  docker: Pick<DockerReads, 'inspectContainer'>;
  watcher: Pick<EventWatcher, 'snapshot'>;
  alerts: Pick<AlertSender, 'send'>;
  runLog: Pick<RunLog, 'append'>;
  clock: Clock;
  logger: WatcherLogger;
  host: string;
  rules?: { cpu?: ResourceRule; memory?: ResourceRule };
  /** How often the streams are matched with the running managed containers. @defaultValue 5_000 */
  syncMs?: number;
  /** @defaultValue os.availableParallelism() */
  hostCpus?: number;
}

export interface ContainerStatsWatch {
  /** The latest reading of each streamed container. */
  latest(): ContainerUsage[];
  sync(): Promise<void>;
  close(): void;
}

type Kind = 'cpu_high' | 'memory_high';

interface Streamed {
  id: string;
  name: string;
  service: string;
  cpus: number;
  sub: EventSubscription | null;
  ended: boolean;
  usage: ContainerUsage | null;
  rules: Record<Kind, RuleState>;
}

const UP = new Set(['running', 'unhealthy', 'recovering']);
const STREAM_RETRY_MS = 60_000;

/** The watch's state, shared by its module functions below. */
interface Stats {
  deps: ContainerStatsDeps;
  rules: Record<Kind, ResourceRule>;
  hostCpus: number;
  streams: Map<string, Streamed>;
  /** Containers whose stream could not be opened: not tried again before this time (no log storm). */
  retryAfter: Map<string, number>;
  closed: boolean;
}

export function startContainerStats(deps: ContainerStatsDeps): ContainerStatsWatch {
  const st: Stats = {
    deps,
    rules: {
      cpu_high: deps.rules?.cpu ?? DEFAULT_RESOURCE_RULES.cpu,
      memory_high: deps.rules?.memory ?? DEFAULT_RESOURCE_RULES.memory,
    },
    hostCpus: deps.hostCpus ?? os.availableParallelism(),
    streams: new Map(),
    retryAfter: new Map(),
    closed: false,
  };
  const sync = singleFlight(() => syncStreams(st)).run;

  const tick = () =>
    void sync().catch((err) => deps.logger.warn({ err }, 'monitor: syncing the container stats failed'));
  const timer = setInterval(tick, deps.syncMs ?? 5_000);
  timer.unref?.();
  tick();

  return {
    latest: () => [...st.streams.values()].flatMap((s) => (s.usage ? [s.usage] : [])),
    sync,
    close() {
      st.closed = true;
      clearInterval(timer);
      for (const s of st.streams.values()) s.sub?.close();
      st.streams.clear();
    },
  };
}

/** In percent of the allowance, the CPU can at most be every host CPU busy; memory its limit. */
function samplePercentProblem(
  pct: ReturnType<typeof usagePercent>,
  cpus: number,
  hostCpus: number,
): string | null {
  const cpu = pct.cpuPercent === null ? null : impossibleReading(pct.cpuPercent, (100 * hostCpus) / cpus);
  const memory = pct.memoryPercent === null ? null : impossibleReading(pct.memoryPercent, 100);
  if (cpu) return `CPU ${cpu}`;
  return memory ? `memory ${memory}` : null;
}

/** One sample: dropped when impossible, else the latest reading, fed to the CPU and memory rules. */
function onSample(st: Stats, s: Streamed, sample: ContainerStatsSample) {
  const { deps } = st;
  if (st.closed || st.streams.get(s.id) !== s) return;
  const now = deps.clock.now().getTime();
  const pct = usagePercent(sample, s.cpus);
  const problem = samplePercentProblem(pct, s.cpus, st.hostCpus);
  if (problem) {
    deps.logger.warn(
      { container: s.name, service: s.service, ...pct, problem },
      'monitor: an impossible container stats sample was dropped',
    );
    return;
  }
  s.usage = {
    id: s.id,
    name: s.name,
    service: s.service,
    ...pct,
    memoryBytes: sample.memoryBytes,
    memoryLimitBytes: sample.memoryLimitBytes,
    cpus: s.cpus,
    at: new Date(now).toISOString(),
  };
  const values: Array<[Kind, number | null]> = [
    ['cpu_high', pct.cpuPercent],
    ['memory_high', pct.memoryPercent],
  ];
  for (const [kind, value] of values) {
    if (value === null) continue;
    const r = evaluateRule(s.rules[kind], value, now, st.rules[kind]);
    s.rules[kind] = r.state;
    if (r.emit) void emit(st, s, kind, r.emit);
  }
}

async function emit(st: Stats, s: Streamed, kind: Kind, e: RuleEmit, note?: string) {
  const { deps } = st;
  const { alert, log } = statsAlert(s, kind, e, st.rules[kind], deps.host, note);
  await Promise.all([
    deps.alerts.send(alert),
    deps.runLog.append(log).catch((err) => deps.logger.error({ err }, 'monitor: could not log')),
  ]);
}

/** A container's cpu_high / memory_high alert and its run-log entry (fire, repeat or resolve; pure). */
function statsAlert(
  s: Streamed,
  kind: Kind,
  e: RuleEmit,
  rule: ResourceRule,
  host: string,
  note?: string,
): { alert: AlertInput; log: RunLogEntryInput } {
  const value = Math.round(e.value * 10) / 10;
  const what = `${kind === 'cpu_high' ? 'CPU' : 'memory'} of container ${s.name} on ${host}`;
  const dedup = `${kind}:${host}:${s.name}:${e.since}`;
  const details = {
    ...ruleDetails(e, rule, host),
    container: s.name,
    container_id: s.id.slice(0, 12),
    service: s.service,
    ...(kind === 'cpu_high' ? { cpus: s.cpus } : { memory_limit_bytes: s.usage?.memoryLimitBytes ?? null }),
  };
  if (e.type === 'resolve') {
    const message = note
      ? `${what}: ${note} (last ${value} %, above ${rule.threshold} % for ${formatDuration(e.durationMs)})`
      : `${what} is back to ${value} % (below ${rule.threshold - rule.hysteresis} %) after ${formatDuration(e.durationMs)} above ${rule.threshold} %`;
    return {
      alert: {
        severity: 'info',
        kind: 'resolved',
        ...alertTarget(s.service),
        message,
        details,
        dedup_key: dedup,
      },
      log: { target: s.service, event: 'resource_resolved', code: kind, message: `${message} [${dedup}]` },
    };
  }
  const held = rule.windowMs > 0 ? ` for ${formatDuration(rule.windowMs)} or more` : '';
  const of = kind === 'cpu_high' ? `of its ${Math.round(s.cpus * 100) / 100} CPUs` : 'of its memory limit';
  const message = `${e.type === 'repeat' ? 'still: ' : ''}${what} is at ${value} % ${of} (above ${rule.threshold} %${held}, since ${details.since})`;
  return {
    alert: { severity: 'warning', kind, ...alertTarget(s.service), message, details, dedup_key: dedup },
    log: {
      target: s.service,
      event: e.type === 'repeat' ? 'resource_repeat' : 'resource_high',
      code: kind,
      message: `${message} [${dedup}]`,
    },
  };
}

function stopStream(st: Stats, s: Streamed, why: string | null) {
  s.sub?.close();
  s.sub = null;
  st.streams.delete(s.id);
  if (why === null) return;
  // A container that stops while above a threshold: its alert is closed, saying why.
  for (const kind of ['cpu_high', 'memory_high'] as const) {
    const rs = s.rules[kind];
    if (rs.phase !== 'firing') continue;
    const now = st.deps.clock.now().getTime();
    const value = (kind === 'cpu_high' ? s.usage?.cpuPercent : s.usage?.memoryPercent) ?? 0;
    void emit(st, s, kind, { type: 'resolve', value, since: rs.since, durationMs: now - rs.since }, why);
  }
}

/** Matches the streams with the running managed containers: stops the gone, opens the new. */
async function syncStreams(st: Stats) {
  const { deps, streams, retryAfter } = st;
  const up = deps.watcher.snapshot().filter((c) => UP.has(c.phase));
  const ids = new Set(up.map((c) => c.id));
  for (const s of [...streams.values()]) {
    if (!ids.has(s.id)) stopStream(st, s, 'it is no longer running');
    else if (s.ended) stopStream(st, s, null); // streamed again below, its rule states kept
  }
  for (const id of retryAfter.keys()) if (!ids.has(id)) retryAfter.delete(id);
  const now = deps.clock.now().getTime();
  for (const c of up) {
    if (st.closed) return;
    if (streams.has(c.id) || (retryAfter.get(c.id) ?? 0) > now) continue;
    await openStream(st, c, now);
  }
}

async function openStream(st: Stats, c: { id: string; name: string; service: string }, now: number) {
  const { deps, streams, retryAfter } = st;
  const info = await deps.docker.inspectContainer(c.id).catch(() => null);
  if (!info || st.closed) return;
  const s: Streamed = {
    id: c.id,
    name: c.name,
    service: c.service,
    cpus: cpuAllowance(info, st.hostCpus),
    sub: null,
    ended: false,
    usage: null,
    rules: { cpu_high: RULE_OK, memory_high: RULE_OK },
  };
  streams.set(c.id, s);
  try {
    const sub = await deps.events.streamContainerStats(
      c.id,
      (sample) => onSample(st, s, sample),
      () => {
        s.ended = true;
      },
    );
    if (st.closed || streams.get(c.id) !== s) sub.close();
    else s.sub = sub;
    retryAfter.delete(c.id);
  } catch (err) {
    streams.delete(c.id);
    retryAfter.set(c.id, now + STREAM_RETRY_MS);
    deps.logger.warn({ err, container: c.name }, 'monitor: cannot stream container stats');
  }
}
