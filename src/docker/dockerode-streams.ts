import type { ContainerEvent, ContainerStatsSample, EventSubscription } from './docker-ports.js';

/** Docker's JSON streams (events, stats) read into the ports' types: shared by the events and evidence adapters. */

/** Reads newline-delimited JSON from a stream; chunks may split or join lines. */
export function followJsonLines(
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

export function toContainerEvent(raw: Record<string, unknown>): ContainerEvent | null {
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

export function toStatsSample(raw: Record<string, unknown>): ContainerStatsSample {
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
    io: ioCounters(raw),
  };
}

type IoEntry = { op?: string; value?: number };

/** Network and block I/O as `docker stats` adds them up: every network, every device's Read/Write. */
function ioCounters(raw: Record<string, unknown>): NonNullable<ContainerStatsSample['io']> {
  const nets = Object.values(
    (raw['networks'] ?? {}) as Record<string, { rx_bytes?: number; tx_bytes?: number }>,
  );
  const blkio = (raw['blkio_stats'] ?? {}) as { io_service_bytes_recursive?: IoEntry[] | null };
  const entries = blkio.io_service_bytes_recursive ?? [];
  const sumOp = (op: string) =>
    entries.filter((e) => e.op?.toLowerCase() === op).reduce((n, e) => n + (e.value ?? 0), 0);
  return {
    networkRxBytes: nets.reduce((n, x) => n + (x.rx_bytes ?? 0), 0),
    networkTxBytes: nets.reduce((n, x) => n + (x.tx_bytes ?? 0), 0),
    blockReadBytes: sumOp('read'),
    blockWriteBytes: sumOp('write'),
  };
}
