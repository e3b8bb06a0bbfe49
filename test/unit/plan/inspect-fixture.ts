import type { ContainerInspect } from '../../../src/docker/docker-objects.js';

export const hex64 = (c: string) => c.repeat(64).slice(0, 64);
export const IMAGE_A = `sha256:${hex64('a')}`;
export const IMAGE_B = `sha256:${hex64('b')}`;
export const CONFIG_KEY = Buffer.alloc(32, 7);

/** A container as `docker inspect` returns it (the fields Helm reads, and some it must ignore). */
export function inspectFixture(
  id: string,
  name: string,
  over: Record<string, unknown> = {},
): ContainerInspect {
  const base = {
    Id: id,
    Created: '2026-11-29T17:06:10.123456789Z',
    Path: 'node',
    Args: ['server.js'],
    State: {
      Status: 'running',
      Running: true,
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: 4242,
      ExitCode: 0,
      Error: '',
      StartedAt: '2026-11-29T17:06:11.000000000Z',
      FinishedAt: '0001-01-01T00:00:00Z',
      Health: { Status: 'healthy', FailingStreak: 0, Log: [] },
    },
    Image: IMAGE_A,
    Name: `/${name}`,
    RestartCount: 0,
    HostConfig: {
      Binds: ['/srv/web/data:/data:rw'],
      NetworkMode: 'shop_default',
      PortBindings: { '8080/tcp': [{ HostIp: '', HostPort: '8080' }] },
      RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
      Privileged: false,
      CapAdd: null,
      Mounts: [{ Type: 'volume', Source: 'web-cache', Target: '/cache' }],
      Memory: 0,
      CpuShares: 0,
    },
    Mounts: [],
    Config: {
      Hostname: id.slice(0, 12),
      Env: ['NODE_ENV=production', 'API_URL=https://api.example.com', 'PATH=/usr/local/bin:/usr/bin'],
      Cmd: ['node', 'server.js'],
      Entrypoint: null,
      Image: 'registry.example.com/shop/web:1.2.3',
      Labels: {
        'ghost.service': 'web',
        'ghost.environment': 'production',
        'com.docker.compose.project': 'shop',
      },
      Healthcheck: {
        Test: ['CMD-SHELL', 'curl -fsS http://localhost:8080/health || exit 1'],
        Interval: 30_000_000_000,
        Timeout: 5_000_000_000,
        StartPeriod: 10_000_000_000,
        Retries: 3,
      },
    },
    NetworkSettings: { Ports: {}, Networks: {} },
  };
  return merge(base, over) as unknown as ContainerInspect;
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const av = a[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && av && typeof av === 'object' && !Array.isArray(av)
        ? merge(av as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/** The same JSON with every object's keys in reverse order. */
export function reverseKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(reverseKeys) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .reverse()
        .map((k) => [k, reverseKeys((value as Record<string, unknown>)[k])]),
    ) as T;
  }
  return value;
}
