/**
 * The Docker ports: the operations Helm needs from a Docker engine, in Helm's own types, as narrow
 * interfaces the rest of Helm is written against: reads (`DockerReads`), for the executors the
 * guarded mutations (`DockerOps`), for the monitor the events and stats streams (`DockerEvents`),
 * and for the advisor's evidence bounded reads of the past (`DockerEvidenceReads`). Nothing here
 * imports dockerode; its adapter (`dockerode-*.ts`) implements these, and only the composition roots
 * construct it. `createContainer` refuses privileges that the container being replaced did not
 * already have, whatever the caller (see privileges.ts).
 */
import type {
  ContainerCreateOptions,
  ContainerInspect,
  ImageInspect,
  RestartPolicy,
} from './docker-objects.js';

export interface ContainerSummary {
  id: string;
  /** Without Docker's leading slash. */
  name: string;
  image: string;
  imageId: string;
  labels: Readonly<Record<string, string>>;
  /** Docker's state word: created, running, paused, restarting, removing, exited, dead. */
  state: string;
  status: string;
  createdAt: number;
}

export interface LogsOptions {
  tail: number;
  /** Unix seconds. */
  since?: number;
}

export interface DockerReads extends DockerMaintenanceReads {
  ping(): Promise<void>;
  info(): Promise<{ id: string; name: string; serverVersion: string; dockerRootDir: string }>;
  listContainers(): Promise<ContainerSummary[]>;
  inspectContainer(id: string): Promise<ContainerInspect>;
  inspectImage(id: string): Promise<ImageInspect>;
  /** What takes Docker's disk space, in bytes: for `helm doctor` on a full disk. */
  diskUsage(): Promise<{ images: number; containers: number; volumes: number; buildCache: number }>;
  /** Raw multiplexed (or raw TTY) log bytes with timestamps; see logs-demux.ts. */
  containerLogs(id: string, opts: LogsOptions): Promise<{ bytes: Buffer; tty: boolean }>;
}

// ---------------------------------------------------------------------------------------------------
// Mutations: the narrow surface the executors use. Nothing else in Helm changes Docker state.
// ---------------------------------------------------------------------------------------------------

/** Registry credentials for one pull. Sent as X-Registry-Auth only; never logged or echoed. */
export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

export interface DockerOps extends DockerReads, DockerMaintenanceOps {
  /**
   * Creates a container from a full create-options object (`name` included). Refuses, with
   * ContainerCreateRefusedError and before anything reaches Docker, every privilege that
   * `allowedFrom` (the container of the release being replaced) did not have: Privileged, added
   * capabilities, host (or another container's) PID/IPC/user namespaces, devices, bind mounts,
   * weakened security options. `allowedFrom: null` (a first release) allows none of them.
   * @returns the new container's id
   */
  createContainer(
    options: ContainerCreateOptions,
    guard: { allowedFrom: ContainerInspect | null },
  ): Promise<string>;
  /** Starting a running container is not an error. */
  startContainer(id: string): Promise<void>;
  /** Graceful: the stop signal, then SIGKILL after `timeoutS`. Stopping a stopped container is not an error. */
  stopContainer(id: string, timeoutS: number): Promise<void>;
  restartContainer(id: string, timeoutS: number): Promise<void>;
  killContainer(id: string, signal?: string): Promise<void>;
  removeContainer(id: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  renameContainer(id: string, name: string): Promise<void>;
  /** `docker update --restart`: a kept container must not come back when the engine restarts. */
  setRestartPolicy(id: string, policy: RestartPolicy): Promise<void>;
  /** The image, or null when the engine does not have it. */
  findImage(reference: string): Promise<ImageInspect | null>;
  tagImage(image: string, repo: string, tag: string): Promise<void>;
  /** Pulls `repository@digest` (or a tag); the credentials go in the X-Registry-Auth header only. */
  pullImage(reference: string, auth: RegistryAuth | null): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Monitor: the container events stream and streamed container stats (read-only; src/monitor/ uses them).
// ---------------------------------------------------------------------------------------------------

/** One container event from Docker's events stream. */
export interface ContainerEvent {
  /** The action's first word: die, oom, kill, stop, start, restart, destroy, health_status, … */
  action: string;
  /** For health_status, Docker's verdict (healthy, unhealthy, starting); null otherwise. */
  health: string | null;
  id: string;
  /** Docker's Actor.Attributes: the container's labels plus name, image, exitCode, signal. */
  attributes: Readonly<Record<string, string>>;
  /** When Docker recorded it, in ms since the epoch (from timeNano). */
  at: number;
}

/** The actions the monitor subscribes to (Docker filters on them, so nothing else is streamed). */
export const MONITOR_EVENT_ACTIONS = [
  'die',
  'oom',
  'kill',
  'stop',
  'start',
  'restart',
  'destroy',
  'health_status',
] as const;

export interface EventSubscription {
  /** Ends the stream; `onEnd` is not called for a close asked for here. */
  close(): void;
}

export interface ContainerEventHandlers {
  onEvent(event: ContainerEvent): void;
  /** The stream ended on its own (engine restarted, connection broken): called once. */
  onEnd(error: Error | null): void;
}

/** One per-container resource sample from a stats stream. */
export interface ContainerStatsSample {
  /** CPU use in percent of one core (100 = one full core); null on the first sample. */
  cpuPercent: number | null;
  memoryBytes: number;
  /** The container's memory limit (the host's memory when it has none). */
  memoryLimitBytes: number;
  /**
   * Counters since the container started (the `stats` read, contract 1.3): bytes over its networks and
   * bytes read and written on block devices. Absent where a sample was made without them.
   */
  io?: { networkRxBytes: number; networkTxBytes: number; blockReadBytes: number; blockWriteBytes: number };
}

export interface DockerEvents {
  /**
   * Subscribes to container events. Resolves once Docker accepted the subscription; rejects with
   * DockerUnavailableError when the engine does not answer.
   */
  subscribeContainerEvents(handlers: ContainerEventHandlers): Promise<EventSubscription>;
  /** Docker's own once-a-second stats stream of one container (one connection, not a call per sample). */
  streamContainerStats(
    id: string,
    onSample: (sample: ContainerStatsSample) => void,
    onEnd: (error: Error | null) => void,
  ): Promise<EventSubscription>;
}

/** A container's past events and one stats sample, for the advisor's evidence (bounded reads). */
export interface DockerEvidenceReads {
  /**
   * The container's events between `sinceMs` and `untilMs` (ms since the epoch; `untilMs` at most now,
   * so Docker ends the stream by itself), oldest first, at most `limit` (the newest kept).
   */
  containerEventsBetween(
    id: string,
    window: { sinceMs: number; untilMs: number; limit: number },
  ): Promise<ContainerEvent[]>;
  /** One stats sample of a running container (Docker takes about a second, for the CPU delta). */
  containerStatsOnce(id: string): Promise<ContainerStatsSample>;
}

// ---------------------------------------------------------------------------------------------------
// Maintenance (scale, remove, prune): images, volumes and archives. The reads join DockerReads, the
// mutations DockerOps. Nothing here is ever forced: Docker refuses to delete an image or a volume
// that a container still uses, and Helm relies on that refusal.
// ---------------------------------------------------------------------------------------------------

export interface ImageSummary {
  /** sha256:… */
  id: string;
  /** "repo:tag" references (Docker's "<none>:<none>" left out). */
  repoTags: string[];
  /** Unix seconds. */
  created: number;
}

export interface VolumeUsage {
  name: string;
  /** Bytes, as Docker's disk-usage view counts them; null when Docker cannot tell (-1). */
  sizeBytes: number | null;
  /** How many containers (running or not) mount it; null when Docker cannot tell. */
  refCount: number | null;
}

export interface DockerMaintenanceReads {
  listImages(): Promise<ImageSummary[]>;
  /** The volumes of `docker system df -v` (one call, about 70 ms here). */
  volumeUsage(): Promise<VolumeUsage[]>;
  /** Every container, running or not, that mounts the volume `name`. */
  containersUsingVolume(name: string): Promise<ContainerSummary[]>;
}

export interface DockerMaintenanceOps {
  /**
   * Docker's archive API (`GET /containers/{id}/archive?path=`): a tar stream of `path` inside a
   * container, which may be stopped. Entries are prefixed with the path's last component.
   */
  archivePath(id: string, path: string): Promise<NodeJS.ReadableStream>;
  /** Removes one tag (or an untagged image by id); never forced, never prunes untagged parents. */
  removeImage(reference: string): Promise<void>;
  /** Never forced: a volume in use is a DockerOperationError (409). */
  removeVolume(name: string): Promise<void>;
}
