// The evidence Helm gathers for one incident, as plain data (the gathering itself, from Docker, the
// release store and the run log, is the wiring's job). Every item has an id that findings and proposals
// cite; ids are Helm's, short and unique within a bundle. Strings that came from a container (log lines,
// health output, event and run-log text, names) are untrusted: fenced and redacted before a model sees
// them, and never quoted in Helm's own summary.

export interface HealthLogEntry {
  exitCode: number;
  /** The check's output, untrusted. */
  output: string;
}

/** The subset of `docker inspect` a diagnosis reads. */
export interface InspectEvidence {
  id: string;
  /** Docker's State.Status: created, running, restarting, exited, dead, paused, removing. */
  status: string;
  running: boolean;
  exitCode: number | null;
  oomKilled: boolean;
  restartCount: number;
  /** Docker's State.Health, or null when the container has no health check. */
  health: { status: string; failingStreak: number; log: HealthLogEntry[] } | null;
  /** HostConfig.Memory in bytes; null or 0 when unlimited. */
  memoryLimitBytes?: number | null;
}

export interface LogLineEvidence {
  id: string;
  line: string;
}

export interface DockerEventEvidence {
  id: string;
  /** Docker's event action: die, oom, kill, start, health_status: unhealthy, … */
  action: string;
  time: string;
  exitCode?: number | null;
}

/** What a release ran: enough to say what changed. Env names only, never values. */
export interface ReleaseFacts {
  releaseId: string;
  image: string;
  envNames: readonly string[];
  mounts: readonly string[];
  ports: readonly string[];
}

export interface ReleaseDiffEvidence {
  id: string;
  running: ReleaseFacts;
  /** null when Helm has no earlier release recorded. */
  previous: ReleaseFacts | null;
}

/** One resource sample of the running container (none when it is not running). */
export interface StatsEvidence {
  id: string;
  /** Percent of one core; null when Docker gave no earlier sample to compare with. */
  cpuPercent: number | null;
  memoryBytes: number;
  /** The container's memory limit (the host's memory when it has none). */
  memoryLimitBytes: number;
}

export interface RunLogEvidence {
  id: string;
  at: string;
  action: string;
  outcome: string;
  text: string;
}

export interface EvidenceBundle {
  target: string;
  environment: string;
  /** The alert kind of the incident (downtime, crash_loop, …), or null for a deploy review. */
  incidentKind: string | null;
  inspect: InspectEvidence | null;
  logs: readonly LogLineEvidence[];
  events: readonly DockerEventEvidence[];
  releaseDiff: ReleaseDiffEvidence | null;
  runLog: readonly RunLogEvidence[];
  /** Absent or null when the container was not running or Docker gave no sample. */
  stats?: StatsEvidence | null;
}

/** Every id the bundle offers: what validateAdvice accepts as cited evidence. */
export function evidenceIds(bundle: EvidenceBundle): string[] {
  return [
    ...(bundle.inspect ? [bundle.inspect.id] : []),
    ...bundle.logs.map((l) => l.id),
    ...bundle.events.map((e) => e.id),
    ...(bundle.releaseDiff ? [bundle.releaseDiff.id] : []),
    ...bundle.runLog.map((r) => r.id),
    ...(bundle.stats ? [bundle.stats.id] : []),
  ];
}
