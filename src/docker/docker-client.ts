import Dockerode from 'dockerode';

/**
 * The one module that imports dockerode. It offers only the Docker operations Helm needs, as a
 * narrow interface the rest of Helm is written against: reads (`DockerReads`) and, for the
 * executors, the guarded mutations (`DockerOps`). `createContainer` refuses privileges that the
 * container being replaced did not already have, whatever the caller.
 */

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

export type ContainerInspect = Dockerode.ContainerInspectInfo;
export type ImageInspect = Dockerode.ImageInspectInfo;
export type ContainerCreateOptions = Dockerode.ContainerCreateOptions;
export type HostConfig = Dockerode.HostConfig;

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

export class DockerUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`the Docker engine did not answer (${describe(cause)})`);
    this.name = this.constructor.name;
  }
}

export class DockerNotFoundError extends Error {
  constructor(what: string) {
    super(`${what} does not exist on the Docker engine`);
    this.name = this.constructor.name;
  }
}

/** dockerode's convention for DOCKER_HOST: unix:///path, tcp://host:port, or a bare socket path. */
export function dockerOptions(dockerHost: string | undefined): Dockerode.DockerOptions {
  if (!dockerHost) return { socketPath: '/var/run/docker.sock' };
  if (dockerHost.startsWith('unix://')) return { socketPath: dockerHost.slice('unix://'.length) };
  if (dockerHost.startsWith('/')) return { socketPath: dockerHost };
  const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
  return {
    host: url.hostname,
    port: Number(url.port),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  };
}

export function makeDockerReads(dockerHost: string | undefined): DockerReads {
  const docker = new Dockerode(dockerOptions(dockerHost));

  return {
    ...maintenanceReads(docker),
    async ping() {
      await guard(() => docker.ping());
    },
    async info() {
      const i = await guard(() => docker.info());
      return { id: i.ID, name: i.Name, serverVersion: i.ServerVersion, dockerRootDir: i.DockerRootDir };
    },
    async listContainers() {
      const list = await guard(() => docker.listContainers({ all: true }));
      return list.map((c) => ({
        id: c.Id,
        name: (c.Names[0] ?? '').replace(/^\//, ''),
        image: c.Image,
        imageId: c.ImageID,
        labels: c.Labels ?? {},
        state: c.State,
        status: c.Status,
        createdAt: c.Created,
      }));
    },
    async inspectContainer(id) {
      return guard(() => docker.getContainer(id).inspect(), `container ${id}`);
    },
    async inspectImage(id) {
      return guard(() => docker.getImage(id).inspect(), `image ${id}`);
    },
    async diskUsage() {
      const df = (await guard(() => docker.df())) as {
        LayersSize?: number;
        Containers?: Array<{ SizeRw?: number }>;
        Volumes?: Array<{ UsageData?: { Size?: number } }>;
        BuildCache?: Array<{ Size?: number }>;
      };
      const sum = (xs: number[]) => xs.reduce((a, b) => a + Math.max(0, b), 0);
      return {
        images: df.LayersSize ?? 0,
        containers: sum((df.Containers ?? []).map((c) => c.SizeRw ?? 0)),
        volumes: sum((df.Volumes ?? []).map((v) => v.UsageData?.Size ?? 0)),
        buildCache: sum((df.BuildCache ?? []).map((b) => b.Size ?? 0)),
      };
    },
    async containerLogs(id, opts) {
      const c = docker.getContainer(id);
      const info = await guard(() => c.inspect(), `container ${id}`);
      const bytes = await guard(
        () =>
          c.logs({
            stdout: true,
            stderr: true,
            follow: false,
            timestamps: true,
            tail: opts.tail,
            ...(opts.since !== undefined ? { since: opts.since } : {}),
          }) as unknown as Promise<Buffer>,
        `container ${id}`,
      );
      return { bytes: Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes), tty: info.Config.Tty };
    },
  };
}

async function guard<T>(fn: () => Promise<T>, what?: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 404 && what) throw new DockerNotFoundError(what);
    if (status !== undefined) throw err;
    throw new DockerUnavailableError(err);
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(err);
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

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount?: number;
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

/** A Docker API error with a status code (other than 404, which is DockerNotFoundError). */
export class DockerOperationError extends Error {
  constructor(
    what: string,
    readonly statusCode: number,
    detail: string,
  ) {
    super(`${what}: Docker answered ${statusCode}: ${detail}`);
    this.name = this.constructor.name;
  }
}

export class DockerPullError extends Error {
  constructor(
    readonly reference: string,
    detail: string,
    /** The registry said the manifest (or repository) does not exist. */
    readonly notFound: boolean,
  ) {
    super(`pull of ${reference} failed: ${detail}`);
    this.name = this.constructor.name;
  }
}

export type PrivilegeKind =
  | 'privileged'
  | 'cap_add'
  | 'pid_mode'
  | 'ipc_mode'
  | 'userns_mode'
  | 'devices'
  | 'bind_mount'
  | 'security_opt';

export interface PrivilegeProblem {
  kind: PrivilegeKind;
  detail: string;
}

/** createContainer was asked for a privilege the replaced container did not have. Nothing was created. */
export class ContainerCreateRefusedError extends Error {
  constructor(
    readonly containerName: string,
    readonly problems: readonly PrivilegeProblem[],
  ) {
    super(
      `refused to create ${containerName || 'a container'}: ${problems.map((p) => p.detail).join('; ')} ` +
        '(the container it replaces did not have this)',
    );
    this.name = this.constructor.name;
  }
}

/**
 * What `options` asks for beyond `allowedFrom` (pure). Each privilege is allowed only when the
 * container being replaced had exactly that one: the same capability, the same namespace mode, the
 * same device, a bind of the same host path to the same place (read-only may replace read-write,
 * not the reverse).
 */
export function privilegeProblems(
  options: ContainerCreateOptions,
  allowedFrom: ContainerInspect | null,
): PrivilegeProblem[] {
  const hc: HostConfig = options.HostConfig ?? {};
  const prev: HostConfig = allowedFrom?.HostConfig ?? {};
  const problems: PrivilegeProblem[] = [];

  if (hc.Privileged === true && prev.Privileged !== true)
    problems.push({ kind: 'privileged', detail: 'Privileged mode' });

  const prevCaps = new Set(asStrings(prev.CapAdd).map(normaliseCap));
  for (const cap of asStrings(hc.CapAdd).map(normaliseCap)) {
    if (!prevCaps.has(cap)) problems.push({ kind: 'cap_add', detail: `added capability ${cap}` });
  }

  const namespace = (
    kind: PrivilegeKind,
    label: string,
    mode: string | undefined,
    prevMode: string | undefined,
    harmless: string[],
  ) => {
    const m = mode ?? '';
    if (harmless.includes(m) || m === (prevMode ?? '')) return;
    problems.push({ kind, detail: `${label} namespace mode "${m}"` });
  };
  namespace('pid_mode', 'PID', hc.PidMode, prev.PidMode, ['', 'private']);
  namespace('ipc_mode', 'IPC', hc.IpcMode, prev.IpcMode, ['', 'private', 'shareable', 'none']);
  namespace('userns_mode', 'user', hc.UsernsMode, prev.UsernsMode, ['']);

  const prevDevices = new Set(asObjects(prev.Devices).map(deviceKey));
  for (const d of asObjects(hc.Devices)) {
    if (!prevDevices.has(deviceKey(d)))
      problems.push({ kind: 'devices', detail: `device ${String(d['PathOnHost'] ?? '?')}` });
  }
  const prevRules = new Set(prev.DeviceCgroupRules ?? []);
  for (const rule of hc.DeviceCgroupRules ?? []) {
    if (!prevRules.has(rule)) problems.push({ kind: 'devices', detail: `device cgroup rule "${rule}"` });
  }
  const prevRequests = new Set((prev.DeviceRequests ?? []).map((r) => JSON.stringify(r)));
  for (const r of hc.DeviceRequests ?? []) {
    if (!prevRequests.has(JSON.stringify(r)))
      problems.push({ kind: 'devices', detail: `device request (driver ${r.Driver ?? 'default'})` });
  }

  const prevBinds = (allowedFrom?.Mounts ?? [])
    .filter((m) => m.Type === 'bind')
    .map((m) => ({ source: normalisePath(m.Source), target: normalisePath(m.Destination), readOnly: !m.RW }));
  for (const b of requestedBinds(hc)) {
    const ok = prevBinds.some(
      (p) => p.source === b.source && p.target === b.target && (b.readOnly || !p.readOnly),
    );
    if (!ok)
      problems.push({
        kind: 'bind_mount',
        detail: `bind mount of host path ${b.source} at ${b.target}${b.readOnly ? ' (read-only)' : ''}`,
      });
  }

  const prevOpts = new Set(asStrings(prev.SecurityOpt));
  for (const opt of asStrings(hc.SecurityOpt)) {
    // no-new-privileges only ever takes privileges away.
    if (/^no-new-privileges([:=]true)?$/.test(opt)) continue;
    if (!prevOpts.has(opt)) problems.push({ kind: 'security_opt', detail: `security option "${opt}"` });
  }
  return problems;
}

interface RequestedBind {
  source: string;
  target: string;
  readOnly: boolean;
}

function requestedBinds(hc: HostConfig): RequestedBind[] {
  const out: RequestedBind[] = [];
  for (const spec of hc.Binds ?? []) {
    // "source:target[:options]"; a source that is not an absolute path names a volume.
    const [source = '', target = '', opts = ''] = spec.split(':');
    if (!source.startsWith('/')) continue;
    out.push({
      source: normalisePath(source),
      target: normalisePath(target),
      readOnly: /(^|,)ro(,|$)/.test(opts),
    });
  }
  for (const m of hc.Mounts ?? []) {
    if (m.Type === 'bind') {
      out.push({
        source: normalisePath(m.Source),
        target: normalisePath(m.Target),
        readOnly: m.ReadOnly === true,
      });
      continue;
    }
    // A local-driver volume declared inline with a device option is a bind mount by another name.
    const driverOpts = m.VolumeOptions?.DriverConfig?.Options ?? {};
    if (
      m.Type === 'volume' &&
      (driverOpts['device'] !== undefined || /(^|,)bind(,|$)/.test(driverOpts['o'] ?? ''))
    ) {
      out.push({
        source: normalisePath(driverOpts['device'] ?? m.Source),
        target: normalisePath(m.Target),
        readOnly: m.ReadOnly === true,
      });
    }
  }
  return out;
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function asObjects(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object') : [];
}

function normaliseCap(cap: string): string {
  const c = cap.toUpperCase();
  return c.startsWith('CAP_') ? c.slice(4) : c;
}

function deviceKey(d: Record<string, unknown>): string {
  const host = String(d['PathOnHost'] ?? '');
  const inContainer = String(d['PathInContainer'] || host);
  return `${host}\u0000${inContainer}\u0000${String(d['CgroupPermissions'] || 'rwm')}`;
}

function normalisePath(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

export function makeDockerOps(dockerHost: string | undefined): DockerOps {
  const docker = new Dockerode(dockerOptions(dockerHost));
  const reads = makeDockerReads(dockerHost);

  const container = (id: string) => docker.getContainer(id);

  return {
    ...reads,
    ...maintenanceOps(docker),
    async createContainer(options, { allowedFrom }) {
      const problems = privilegeProblems(options, allowedFrom);
      if (problems.length > 0) throw new ContainerCreateRefusedError(options.name ?? '', problems);
      const c = await guardOp(
        () => docker.createContainer(options),
        `create container ${options.name ?? ''}`,
      );
      return c.id;
    },
    async startContainer(id) {
      await guardOp(() => container(id).start(), `start container ${id}`, [304]);
    },
    async stopContainer(id, timeoutS) {
      await guardOp(() => container(id).stop({ t: timeoutS }), `stop container ${id}`, [304]);
    },
    async restartContainer(id, timeoutS) {
      await guardOp(() => container(id).restart({ t: timeoutS }), `restart container ${id}`);
    },
    async killContainer(id, signal = 'SIGKILL') {
      await guardOp(() => container(id).kill({ signal }), `kill container ${id}`);
    },
    async removeContainer(id, opts = {}) {
      await guardOp(
        () => container(id).remove({ force: opts.force === true, v: opts.volumes === true }),
        `remove container ${id}`,
      );
    },
    async renameContainer(id, name) {
      await guardOp(() => container(id).rename({ name }), `rename container ${id} to ${name}`);
    },
    async setRestartPolicy(id, policy) {
      await guardOp(() => container(id).update({ RestartPolicy: policy }), `update container ${id}`);
    },
    async findImage(reference) {
      try {
        return await guardOp(() => docker.getImage(reference).inspect(), `image ${reference}`);
      } catch (err) {
        if (err instanceof DockerNotFoundError) return null;
        throw err;
      }
    },
    async tagImage(image, repo, tag) {
      await guardOp(() => docker.getImage(image).tag({ repo, tag }), `tag image ${image} as ${repo}:${tag}`);
    },
    async pullImage(reference, auth) {
      const at = reference.indexOf('@');
      const colon = reference.lastIndexOf(':');
      const [fromImage, tag] =
        at >= 0
          ? [reference.slice(0, at), reference.slice(at + 1)]
          : colon > reference.lastIndexOf('/')
            ? [reference.slice(0, colon), reference.slice(colon + 1)]
            : [reference, 'latest'];
      const scrub = (text: string) =>
        auth ? text.split(auth.password).join('[redacted]').split(auth.username).join('[user]') : text;
      let stream: NodeJS.ReadableStream;
      try {
        // createImage with the credentials as its own argument: they become the X-Registry-Auth
        // header and never a query string.
        stream = (await docker.createImage(
          auth ? { username: auth.username, password: auth.password, serveraddress: auth.serveraddress } : {},
          { fromImage, tag },
        )) as NodeJS.ReadableStream;
      } catch (err) {
        const status = (err as { statusCode?: number }).statusCode;
        if (status === undefined) throw new DockerUnavailableError(err);
        const detail = scrub(dockerMessage(err));
        throw new DockerPullError(
          reference,
          detail,
          status === 404 || /manifest unknown|not found/i.test(detail),
        );
      }
      await new Promise<void>((resolve, reject) => {
        docker.modem.followProgress(stream, (err: Error | null) => {
          if (!err) return resolve();
          const detail = scrub(err.message ?? String(err));
          reject(new DockerPullError(reference, detail, /manifest unknown|not found/i.test(detail)));
        });
      });
    },
  };
}

/** Like guard(), for mutations: 404 is DockerNotFoundError, other statuses DockerOperationError. */
async function guardOp<T>(fn: () => Promise<T>, what: string, okStatuses: number[] = []): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && okStatuses.includes(status)) return undefined as T;
    if (status === 404) throw new DockerNotFoundError(what.replace(/^\w+ /, ''));
    if (status !== undefined) throw new DockerOperationError(what, status, dockerMessage(err));
    throw new DockerUnavailableError(err);
  }
}

function dockerMessage(err: unknown): string {
  const e = err as { json?: { message?: string } | null; reason?: string; message?: string };
  if (e.json?.message) return e.json.message;
  // dockerode: "(HTTP code 500) server error - <the engine's message>"
  const detail = e.message?.replace(/^\(HTTP code [0-9]+\) [^-]*- /, '').trim();
  return detail || e.reason || String(err);
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

export function makeDockerEvents(dockerHost: string | undefined): DockerEvents {
  const docker = new Dockerode(dockerOptions(dockerHost));
  return {
    async subscribeContainerEvents(handlers) {
      const stream = (await guard(() =>
        docker.getEvents({
          filters: { type: ['container'], event: [...MONITOR_EVENT_ACTIONS] },
        }),
      )) as NodeJS.ReadableStream & { destroy(): void };
      return followJsonLines(
        stream,
        (raw) => {
          const event = toContainerEvent(raw);
          if (event) handlers.onEvent(event);
        },
        handlers.onEnd,
      );
    },
    async streamContainerStats(id, onSample, onEnd) {
      const stream = (await guard(
        () => docker.getContainer(id).stats({ stream: true }) as unknown as Promise<NodeJS.ReadableStream>,
        `container ${id}`,
      )) as NodeJS.ReadableStream & { destroy(): void };
      return followJsonLines(stream, (raw) => onSample(toStatsSample(raw)), onEnd);
    },
  };
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

export function makeDockerEvidenceReads(dockerHost: string | undefined): DockerEvidenceReads {
  const docker = new Dockerode(dockerOptions(dockerHost));
  return {
    async containerEventsBetween(id, { sinceMs, untilMs, limit }) {
      // dockerode sends these as query strings; its types allow only numbers, which lose the fraction.
      const options = {
        since: dockerTimestamp(sinceMs),
        until: dockerTimestamp(untilMs),
        filters: { type: ['container'], container: [id], event: [...MONITOR_EVENT_ACTIONS] },
      } as unknown as Dockerode.GetEventsOptions;
      const stream = (await guard(() => docker.getEvents(options))) as NodeJS.ReadableStream & {
        destroy(): void;
      };
      const events: ContainerEvent[] = [];
      await new Promise<void>((resolve, reject) => {
        followJsonLines(
          stream,
          (raw) => {
            const event = toContainerEvent(raw);
            if (event) events.push(event);
            if (events.length > limit) events.shift();
          },
          (error) => (error ? reject(new DockerUnavailableError(error)) : resolve()),
        );
      });
      return events;
    },
    async containerStatsOnce(id) {
      const raw = await guard(
        () => docker.getContainer(id).stats({ stream: false }) as unknown as Promise<Record<string, unknown>>,
        `container ${id}`,
      );
      return toStatsSample(raw);
    },
  };
}

/**
 * Docker's "seconds.nanoseconds" (the fraction is read as a count of nanoseconds, so it has 9 digits):
 * whole seconds would drop the events of the current second.
 */
function dockerTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  return `${Math.floor(whole / 1000)}.${String(whole % 1000).padStart(3, '0')}000000`;
}

/** Reads newline-delimited JSON from a stream; chunks may split or join lines. */
function followJsonLines(
  stream: NodeJS.ReadableStream & { destroy(): void },
  onObject: (raw: Record<string, unknown>) => void,
  onEnd: (error: Error | null) => void,
): EventSubscription {
  let buffered = '';
  let closed = false;
  const end = (error: Error | null) => {
    if (closed) return;
    closed = true;
    onEnd(error);
  };
  stream.on('data', (chunk: Buffer | string) => {
    buffered += String(chunk);
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (!line) continue;
      try {
        onObject(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // A line that is not JSON is skipped: one bad line must not end the watch.
      }
    }
  });
  stream.on('error', (err: Error) => end(err));
  stream.on('end', () => end(null));
  stream.on('close', () => end(null));
  return {
    close() {
      closed = true;
      stream.destroy();
    },
  };
}

function toContainerEvent(raw: Record<string, unknown>): ContainerEvent | null {
  const actor = (raw['Actor'] ?? {}) as { ID?: unknown; Attributes?: Record<string, string> };
  const id = typeof actor.ID === 'string' ? actor.ID : typeof raw['id'] === 'string' ? raw['id'] : '';
  const full = typeof raw['Action'] === 'string' ? raw['Action'] : String(raw['status'] ?? '');
  if (!id || !full) return null;
  // "health_status: unhealthy", "exec_start: sh -c …": the action is the first word.
  const colon = full.indexOf(':');
  const action = colon >= 0 ? full.slice(0, colon) : full;
  const timeNano = Number(raw['timeNano']);
  const at =
    Number.isFinite(timeNano) && timeNano > 0 ? Math.floor(timeNano / 1e6) : Number(raw['time']) * 1000;
  return {
    action,
    health: action === 'health_status' && colon >= 0 ? full.slice(colon + 1).trim() : null,
    id,
    attributes: actor.Attributes ?? {},
    at: Number.isFinite(at) ? at : Date.now(),
  };
}

function toStatsSample(raw: Record<string, unknown>): ContainerStatsSample {
  type Cpu = { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number; online_cpus?: number };
  const cpu = (raw['cpu_stats'] ?? {}) as Cpu;
  const pre = (raw['precpu_stats'] ?? {}) as Cpu;
  const mem = (raw['memory_stats'] ?? {}) as {
    usage?: number;
    limit?: number;
    stats?: Record<string, number>;
  };
  const cpuDelta = (cpu.cpu_usage?.total_usage ?? 0) - (pre.cpu_usage?.total_usage ?? 0);
  const systemDelta = (cpu.system_cpu_usage ?? 0) - (pre.system_cpu_usage ?? 0);
  const cpus = cpu.online_cpus ?? 1;
  // The page cache is not the container's own memory (what `docker stats` subtracts too).
  const cache = mem.stats?.['inactive_file'] ?? mem.stats?.['total_inactive_file'] ?? 0;
  // Both counters are cumulative since the container's start: after a restart on the same stream,
  // precpu_stats still holds the previous run's total and the delta is negative (measured on the
  // engine). Such a sample compares with nothing meaningful, like the first one.
  const comparable = Boolean(pre.system_cpu_usage) && systemDelta > 0 && cpuDelta >= 0;
  return {
    cpuPercent: comparable ? (cpuDelta / systemDelta) * cpus * 100 : null,
    memoryBytes: Math.max(0, (mem.usage ?? 0) - cache),
    memoryLimitBytes: mem.limit ?? 0,
  };
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

function summaryOf(c: Dockerode.ContainerInfo): ContainerSummary {
  return {
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    imageId: c.ImageID,
    labels: c.Labels ?? {},
    state: c.State,
    status: c.Status,
    createdAt: c.Created,
  };
}

function maintenanceReads(docker: Dockerode): DockerMaintenanceReads {
  return {
    async listImages() {
      const list = await guard(() => docker.listImages({ all: false }));
      return list.map((i) => ({
        id: i.Id,
        repoTags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'),
        created: i.Created,
      }));
    },
    async volumeUsage() {
      const df = (await guard(() => docker.df())) as {
        Volumes?: Array<{ Name?: string; UsageData?: { Size?: number; RefCount?: number } | null }> | null;
      };
      const known = (n: number | undefined) => (typeof n === 'number' && n >= 0 ? n : null);
      return (df.Volumes ?? [])
        .filter((v) => typeof v.Name === 'string')
        .map((v) => ({
          name: v.Name!,
          sizeBytes: known(v.UsageData?.Size),
          refCount: known(v.UsageData?.RefCount),
        }));
    },
    async containersUsingVolume(name) {
      // Docker's volume filter also matches a mount destination: keep the mounts of this volume only.
      const list = await guard(() => docker.listContainers({ all: true, filters: { volume: [name] } }));
      return list
        .filter((c) => (c.Mounts ?? []).some((m) => m.Type === 'volume' && m.Name === name))
        .map(summaryOf);
    },
  };
}

function maintenanceOps(docker: Dockerode): DockerMaintenanceOps {
  return {
    async archivePath(id, path) {
      return guardOp(
        () => docker.getContainer(id).getArchive({ path }) as Promise<NodeJS.ReadableStream>,
        `archive ${path} of container ${id}`,
      );
    },
    async removeImage(reference) {
      await guardOp(
        () => docker.getImage(reference).remove({ force: false, noprune: true }),
        `remove image ${reference}`,
      );
    },
    async removeVolume(name) {
      await guardOp(() => docker.getVolume(name).remove({ force: false }), `remove volume ${name}`);
    },
  };
}
