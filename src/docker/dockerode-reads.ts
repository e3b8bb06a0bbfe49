import Dockerode from 'dockerode';
import { dockerOptions, guard, summaryOf } from './dockerode-connection.js';
import type { DockerMaintenanceReads, DockerReads } from './docker-ports.js';

/** The dockerode adapter of DockerReads: what Helm reads off the engine, never a change. */

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
      return list.map(summaryOf);
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
