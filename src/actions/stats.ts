import type { ContainerStats } from '../contracts/index.js';
import { DockerNotFoundError } from '../docker/docker-errors.js';
import type { ContainerSummary } from '../docker/docker-ports.js';
import type { ActionHandler, UsageReads } from './action-types.js';
import { containers, keepFirstWithin } from './fit-data.js';

/**
 * A safe read, the design card's `docker stats` and "reading metrics" (CONTRACT decision 83): CPU,
 * memory, network and block I/O of each container of the target (or of everything in scope for `*`),
 * one Docker sample each taken side by side, and the host's CPU, memory and disks over the same
 * second. A container that is not running is reported with no CPU and zero figures.
 */
export const stats: ActionHandler = async (ctx) => {
  const usage = ctx.usage;
  if (!usage) return { ok: false, code: 'unavailable', message: 'this Helm reads no resource figures' };
  const rows = ctx.services.flatMap((s) => s.containers.map((c) => ({ service: s.name, c })));
  const [perContainer, host] = await Promise.all([
    Promise.all(rows.map(({ service, c }) => sampleOf(usage, service, c))),
    usage.host(),
  ]);
  const { kept, truncated } = keepFirstWithin(perContainer);
  const target = ctx.request.target;
  const cpu = kept.reduce((n, c) => n + (c.cpu_percent ?? 0), 0);
  const hostCpu = host.cpu_percent === null ? 'unknown' : `${host.cpu_percent.toFixed(1)} %`;
  return {
    ok: true,
    outcome: `${containers(kept.length)} of ${target === '*' ? 'everything in scope' : target}: CPU ${cpu.toFixed(1)} % of a core, memory ${mib(kept.reduce((n, c) => n + c.memory_bytes, 0))}; host CPU ${hostCpu}${truncated ? '; more cut to fit 64 KiB' : ''}`,
    data: { containers: kept, host, truncated },
  };
};

async function sampleOf(usage: UsageReads, service: string, c: ContainerSummary): Promise<ContainerStats> {
  const base = { service, name: c.name, id: c.id.slice(0, 12) };
  if (c.state !== 'running') return { ...base, running: false, ...NO_USAGE };
  // Removed since the list was read: it no longer runs, which is what the read reports.
  const s = await usage.containerStatsOnce(c.id).catch((err: unknown) => {
    if (err instanceof DockerNotFoundError) return null;
    throw err;
  });
  if (s === null) return { ...base, running: false, ...NO_USAGE };
  return {
    ...base,
    running: true,
    cpu_percent: s.cpuPercent === null ? null : round2(s.cpuPercent),
    memory_bytes: whole(s.memoryBytes),
    memory_limit_bytes: whole(s.memoryLimitBytes),
    network_rx_bytes: whole(s.io?.networkRxBytes),
    network_tx_bytes: whole(s.io?.networkTxBytes),
    block_read_bytes: whole(s.io?.blockReadBytes),
    block_write_bytes: whole(s.io?.blockWriteBytes),
  };
}

/** What a container that is not running is reported with. */
export const NO_USAGE = {
  cpu_percent: null,
  memory_bytes: 0,
  memory_limit_bytes: 0,
  network_rx_bytes: 0,
  network_tx_bytes: 0,
  block_read_bytes: 0,
  block_write_bytes: 0,
} as const;

function whole(n: number | undefined): number {
  return n !== undefined && Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
