import Dockerode from 'dockerode';

/**
 * The one module that imports dockerode. It offers only the Docker operations Helm needs, as a
 * narrow interface the rest of Helm is written against (and that the executor issue extends with
 * guarded mutations). Reads only, for now.
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

export interface LogsOptions {
  tail: number;
  /** Unix seconds. */
  since?: number;
}

export interface DockerReads {
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
