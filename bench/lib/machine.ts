// Facts about the machine and services the numbers came from, and memory snapshots of this process.
import { readFileSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import type Dockerode from 'dockerode';
import type { Redis } from 'ioredis';
import { round } from './stats.js';

// `npm run bench` runs plain tsx (package.json is not ours to change): turn on gc() from inside.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (() => void) | undefined;

const MB = 1024 * 1024;

export interface MemorySnapshot {
  at: string;
  rssMB: number;
  heapUsedMB: number;
  /** heapUsed after two full GCs: what is really retained. */
  heapUsedAfterGcMB: number;
  heapTotalMB: number;
  externalMB: number;
}

export function memorySnapshot(at: string): MemorySnapshot {
  const raw = process.memoryUsage();
  gc?.();
  gc?.();
  const after = process.memoryUsage();
  return {
    at,
    rssMB: round(after.rss / MB, 1),
    heapUsedMB: round(raw.heapUsed / MB, 1),
    heapUsedAfterGcMB: round(after.heapUsed / MB, 1),
    heapTotalMB: round(after.heapTotal / MB, 1),
    externalMB: round(after.external / MB, 1),
  };
}

const FS_MAGIC: Record<number, string> = {
  61267: 'ext4',
  16914836: 'tmpfs',
  2035054128: 'overlayfs',
  1481003842: 'xfs',
  2435016766: 'btrfs',
  801189825: 'zfs',
};

export async function filesystemOf(dir: string): Promise<string> {
  const s = await statfs(dir);
  return FS_MAGIC[s.type] ?? `0x${s.type.toString(16)}`;
}

export async function machineFacts(docker: Dockerode, redis: Redis, memoryDir: string) {
  const cpus = os.cpus();
  const version = (await docker.version()) as { Version?: string };
  const info = await redis.info('server');
  const persistence = await redis.info('persistence');
  const field = (text: string, key: string) => text.match(new RegExp(`^${key}:(.*)$`, 'm'))?.[1]?.trim();
  const pkg = (name: string) =>
    (
      JSON.parse(
        readFileSync(new URL(`../../node_modules/${name}/package.json`, import.meta.url), 'utf8'),
      ) as {
        version: string;
      }
    ).version;
  return {
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cores: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    totalMemMB: Math.round(os.totalmem() / MB),
    loadAvgAtStart: os.loadavg().map((x) => round(x, 2)),
    dockerServer: version.Version ?? 'unknown',
    redis: field(info, 'redis_version') ?? 'unknown',
    redisAof: field(persistence, 'aof_enabled') === '1',
    bullmq: pkg('bullmq'),
    ioredis: pkg('ioredis'),
    dockerode: pkg('dockerode'),
    memoryDirFs: await filesystemOf(memoryDir),
  };
}

export type MachineFacts = Awaited<ReturnType<typeof machineFacts>>;
