import os from 'node:os';
import si from 'systeminformation';
import type { InFlightReads, UsageReads } from '../actions/action-types.js';
import { makeLeaseProbe } from '../bus/lease-probe.js';
import type { HostStats } from '../contracts/index.js';
import { makeDockerEvidenceReads } from '../docker/dockerode-evidence.js';
import type { ParkedStore } from '../gate/parked-store.js';
import { makeIntentStore } from '../intents/intent-store.js';
import { defaultDiskPaths, sampleDisks } from '../monitor/resources.js';
import { round2 } from '../actions/stats.js';
import type { HelmParts } from './parts.js';

/** How long the host's CPU is watched, about as long as Docker's own sample of a container. */
const HOST_CPU_WINDOW_MS = 1_000;

/**
 * What status and stats read besides Docker (contract 1.3). In flight: the executor's lease
 * (bus/lease-probe.ts), its write-ahead intents (intents/) and the gate's parked requests
 * (gate/parked-store.ts), none of which a safe read may import, so they are handed in here.
 */
export function makeInFlightReads(p: HelmParts, parked: Pick<ParkedStore, 'listParked'>): InFlightReads {
  const intents = makeIntentStore(p.config.memoryDir);
  return {
    leaseHeld: makeLeaseProbe(p.redis, p.config.queuePrefix, p.config.host),
    intents: async () => (await intents.list()).map((i) => ({ service: i.service, action: i.action })),
    parked: async () =>
      (await parked.listParked())
        .filter((r) => r.status === 'parked')
        .map((r) => ({
          service: r.approval_request.plan.service,
          approval_id: r.approval_id,
          action: r.approval_request.plan.action,
          expires_at: r.approval_request.expires_at,
        })),
  };
}

/**
 * Resource figures per request (CONTRACT decision 83): one Docker stats sample per container
 * (`stream: false`), never a stream. The monitor's own streams are not read: it may run in another
 * process, and it streams only running containers in scope while a request may name any container.
 * Host CPU from the kernel's counters over one second (os.cpus; not si.currentLoad, whose state the
 * monitor's sampler shares in this process), memory from systeminformation, disks as the monitor sees them.
 */
export function makeUsageReads(p: HelmParts): UsageReads {
  const evidence = makeDockerEvidenceReads(p.config.dockerHost);
  let dockerRootDir: Promise<string | null> | null = null;
  const disks = async () => {
    dockerRootDir ??= p.docker.info().then(
      (i) => i.dockerRootDir || null,
      () => null,
    );
    const paths = defaultDiskPaths({
      hostRoot: p.config.hostRoot,
      dockerRootDir: await dockerRootDir,
      memoryDir: p.config.memoryDir,
    });
    return sampleDisks(paths);
  };
  return {
    containerStatsOnce: (id) => evidence.containerStatsOnce(id),
    async host(): Promise<HostStats> {
      const [cpu, mem, fs] = await Promise.all([hostCpuPercent(), si.mem(), disks()]);
      return {
        cpu_percent: cpu,
        memory_used_bytes: Math.max(0, mem.total - mem.available),
        memory_total_bytes: mem.total,
        disks: fs.map((d) => ({
          paths: d.paths,
          size_bytes: d.sizeBytes,
          available_bytes: d.availableBytes,
          used_percent: round2(d.usedPercent),
        })),
      };
    },
  };
}

async function hostCpuPercent(): Promise<number | null> {
  const before = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, HOST_CPU_WINDOW_MS));
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? round2(((total - (after.idle - before.idle)) / total) * 100) : null;
}

function cpuTimes(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    idle += times.idle;
    total += times.user + times.nice + times.sys + times.idle + times.irq;
  }
  return { idle, total };
}
