// Minimal inspect objects for the executor's pure functions: only the fields they read.
import type { ContainerInspect, ImageInspect } from '../../../src/docker/docker-objects.js';

export function containerInspect(over: {
  id?: string;
  name?: string;
  image?: string;
  config?: Partial<ContainerInspect['Config']> & Record<string, unknown>;
  hostConfig?: Partial<ContainerInspect['HostConfig']>;
  mounts?: ContainerInspect['Mounts'];
  running?: boolean;
}): ContainerInspect {
  const id = over.id ?? 'a'.repeat(64);
  return {
    Id: id,
    Name: `/${over.name ?? 'web'}`,
    Image: over.image ?? `sha256:${'1'.repeat(64)}`,
    RestartCount: 0,
    State: { Running: over.running ?? true, Restarting: false, Status: 'running' },
    Config: {
      Hostname: id.slice(0, 12),
      Domainname: '',
      User: '',
      Env: [],
      Cmd: [],
      Image: 'helm-test/web:1',
      Labels: {},
      WorkingDir: '',
      ExposedPorts: {},
      Volumes: {},
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      ...over.config,
    },
    HostConfig: { NetworkMode: 'host', ...over.hostConfig },
    Mounts: over.mounts ?? [],
    NetworkSettings: { Networks: {} },
  } as unknown as ContainerInspect;
}

export function imageInspect(
  config: Partial<ImageInspect['Config']> & Record<string, unknown>,
  id?: string,
): ImageInspect {
  return {
    Id: id ?? `sha256:${'2'.repeat(64)}`,
    RepoTags: [],
    RepoDigests: [],
    Config: {
      Env: [],
      Cmd: [],
      Labels: {},
      WorkingDir: '',
      User: '',
      ExposedPorts: {},
      Volumes: {},
      ...config,
    },
  } as unknown as ImageInspect;
}
