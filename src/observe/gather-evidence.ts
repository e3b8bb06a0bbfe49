// The advisor's evidence, read off the host (k8sgpt's "analyzers first"): for one target a fixed,
// bounded bundle, each item with an id — docker inspect, the last log lines, the target's recent Docker
// events, the running and the previous release, and the target's recent run-log entries. No model takes
// part. Env VALUES never enter the bundle (names only): they are returned beside it, as the strings the
// model redactor must mask. A part Helm cannot read is left empty and named in `gaps`; the rest is
// still gathered.
import type {
  DockerEventEvidence,
  EvidenceBundle,
  InspectEvidence,
  LogLineEvidence,
  ReleaseFacts,
  RunLogEvidence,
  StatsEvidence,
} from '../advisor/evidence-bundle.js';
import type { Clock } from '../base/clock.js';
import { takeCodePoints } from '../contracts/index.js';
import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerEvidenceReads, DockerReads } from '../docker/docker-ports.js';
import { demuxDockerLogs } from '../docker/logs-demux.js';
import type { ReleaseRecord, ReleaseStore } from '../releases/release-store.js';
import type { RunLogEntry } from '../runlog/index.js';

export interface EvidenceDeps {
  docker: Pick<DockerReads, 'inspectContainer' | 'containerLogs'>;
  evidenceReads: DockerEvidenceReads;
  releases: Pick<ReleaseStore, 'currentRelease' | 'getRelease'>;
  /** Every run-log entry Helm can read (e.g. mergeRunLogs' entries), oldest first. */
  runLogEntries: () => Promise<readonly RunLogEntry[]>;
  clock: Clock;
}

export interface EvidenceRequest {
  /** The service, as the release store and the run log name it. */
  target: string;
  /** The container to inspect (id or name); null or absent: the target's name. */
  container?: string | null;
  environment: string;
  incidentKind: string | null;
  /** @defaultValue 50 */
  maxLogLines?: number;
  /** How far back Docker events are read. @defaultValue 900 */
  eventWindowSeconds?: number;
  /** @defaultValue 50 */
  maxEvents?: number;
  /** @defaultValue 20 */
  maxRunLogEntries?: number;
}

export interface GatheredEvidence {
  bundle: EvidenceBundle;
  /** Env values (running container and recorded releases): for the model redactor, never for a prompt. */
  secretsToMask: string[];
  /** Ids Helm knows are not secret (container id, image ids), for the redactor's publicValues. */
  publicValues: string[];
  /** The parts Helm could not read, in Helm's words (for Helm's own log, not for a model). */
  gaps: string[];
}

/** One log line, a health output or a run-log message is cut to this many code points. */
const MAX_TEXT = 500;
/** The health checks kept from Docker's log (Docker keeps five). */
const MAX_HEALTH_LOG = 5;

export async function gatherEvidence(deps: EvidenceDeps, req: EvidenceRequest): Promise<GatheredEvidence> {
  const container = req.container ?? req.target;
  const gaps: string[] = [];
  const secrets = new Set<string>();
  const publicValues = new Set<string>();
  const attempt = async <T>(part: string, fallback: T, read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      gaps.push(`${part}: ${err instanceof Error ? err.message : String(err)}`);
      return fallback;
    }
  };

  const info = await attempt<ContainerInspect | null>('inspect', null, () =>
    deps.docker.inspectContainer(container),
  );
  if (info) {
    for (const value of envValues(info.Config.Env ?? [])) secrets.add(value);
    for (const v of [info.Id, info.Image, info.Config.Image]) if (v) publicValues.add(v);
  }
  const containerId = info?.Id ?? container;
  const nowMs = deps.clock.now().getTime();

  const [logs, events, releaseDiff, runLog, stats] = await Promise.all([
    attempt('logs', [], () => lastLogLines(deps, containerId, req.maxLogLines ?? 50)),
    attempt('events', [], () =>
      recentEvents(deps, containerId, {
        sinceMs: nowMs - (req.eventWindowSeconds ?? 900) * 1000,
        untilMs: nowMs,
        limit: req.maxEvents ?? 50,
      }),
    ),
    attempt('releases', null, () => releaseDiffOf(deps, req.target, secrets)),
    attempt('run log', [], () => runLogOf(deps, req.target, req.maxRunLogEntries ?? 20)),
    // A stopped container has no stats worth reading (Docker answers zeros).
    info?.State.Running
      ? attempt<StatsEvidence | null>('stats', null, async () => ({
          id: 'stats',
          ...(await deps.evidenceReads.containerStatsOnce(containerId)),
        }))
      : null,
  ]);

  return {
    bundle: {
      target: req.target,
      environment: req.environment,
      incidentKind: req.incidentKind,
      inspect: info ? inspectEvidence(info) : null,
      logs,
      events,
      releaseDiff,
      runLog,
      stats,
    },
    secretsToMask: [...secrets],
    publicValues: [...publicValues],
    gaps,
  };
}

function inspectEvidence(info: ContainerInspect): InspectEvidence {
  const state = info.State as ContainerInspect['State'] & {
    Health?: { Status: string; FailingStreak: number; Log?: Array<{ ExitCode: number; Output: string }> };
  };
  const health = state.Health;
  return {
    id: 'inspect',
    status: state.Status,
    running: state.Running,
    exitCode: typeof state.ExitCode === 'number' ? state.ExitCode : null,
    oomKilled: state.OOMKilled === true,
    restartCount: info.RestartCount ?? 0,
    health: health
      ? {
          status: health.Status,
          failingStreak: health.FailingStreak ?? 0,
          log: (health.Log ?? []).slice(-MAX_HEALTH_LOG).map((entry) => ({
            exitCode: entry.ExitCode,
            output: takeCodePoints(entry.Output ?? '', MAX_TEXT),
          })),
        }
      : null,
    memoryLimitBytes: info.HostConfig?.Memory || null,
  };
}

async function lastLogLines(deps: EvidenceDeps, id: string, max: number): Promise<LogLineEvidence[]> {
  const { bytes, tty } = await deps.docker.containerLogs(id, { tail: max });
  return demuxDockerLogs(bytes, tty, id)
    .slice(-max)
    .map((line, i) => ({ id: `log-${i + 1}`, line: takeCodePoints(line.text, MAX_TEXT) }));
}

async function recentEvents(
  deps: EvidenceDeps,
  id: string,
  window: { sinceMs: number; untilMs: number; limit: number },
): Promise<DockerEventEvidence[]> {
  const events = await deps.evidenceReads.containerEventsBetween(id, window);
  return events.map((e, i) => {
    const exitCode = Number(e.attributes['exitCode']);
    return {
      id: `event-${i + 1}`,
      action: e.health ? `${e.action}: ${e.health}` : e.action,
      time: new Date(e.at).toISOString(),
      ...(e.action === 'die' ? { exitCode: Number.isInteger(exitCode) ? exitCode : null } : {}),
    };
  });
}

async function releaseDiffOf(
  deps: EvidenceDeps,
  service: string,
  secrets: Set<string>,
): Promise<EvidenceBundle['releaseDiff']> {
  const running = await deps.releases.currentRelease(service);
  if (!running) return null;
  const previous = running.previous ? await deps.releases.getRelease(service, running.previous) : null;
  for (const record of [running, previous]) {
    for (const c of record?.containers ?? []) {
      for (const env of c.config.env) if ('value' in env) secrets.add(env.value);
    }
  }
  return { id: 'release-diff', running: releaseFacts(running), previous: previous && releaseFacts(previous) };
}

/** What a release ran, over all its replicas: image, env names, mounts, ports. */
export function releaseFacts(record: ReleaseRecord): ReleaseFacts {
  const envNames = new Set<string>();
  const mounts = new Set<string>();
  const ports = new Set<string>();
  for (const { config } of record.containers) {
    for (const env of config.env) envNames.add(env.name);
    const host = config.host_config as {
      Binds?: string[] | null;
      Mounts?: Array<{ Source?: string; Target?: string }> | null;
      PortBindings?: Record<string, Array<{ HostIp?: string; HostPort?: string }> | null> | null;
    };
    for (const bind of host.Binds ?? []) mounts.add(bind);
    for (const m of host.Mounts ?? []) mounts.add(`${m.Source ?? ''}:${m.Target ?? ''}`);
    for (const volume of config.volumes) mounts.add(volume);
    for (const port of config.exposed_ports) ports.add(port);
    for (const [port, bindings] of Object.entries(host.PortBindings ?? {})) {
      for (const b of bindings ?? []) ports.add(`${b.HostIp ?? ''}:${b.HostPort ?? ''}->${port}`);
    }
  }
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    releaseId: record.id,
    image: record.image,
    envNames: sorted(envNames),
    mounts: sorted(mounts),
    ports: sorted(ports),
  };
}

async function runLogOf(deps: EvidenceDeps, target: string, max: number): Promise<RunLogEvidence[]> {
  const entries = (await deps.runLogEntries()).filter((e) => e.target === target).slice(-max);
  return entries.map((e, i) => ({
    id: `run-${i + 1}`,
    at: e.at,
    action: e.action ?? e.event,
    outcome: e.code ? `${e.event} (${e.code})` : e.event,
    text: takeCodePoints(e.message, MAX_TEXT),
  }));
}

/** NAME=value entries: the values (an entry without `=` has none). */
function envValues(env: readonly string[]): string[] {
  return env.flatMap((entry) => {
    const eq = entry.indexOf('=');
    return eq >= 0 ? [entry.slice(eq + 1)] : [];
  });
}
