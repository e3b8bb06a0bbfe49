// Section 1: one request at a time, add → waitUntilFinished, for raw BullMQ (no-op worker) and for
// Helm (health_check of a running web container; the same with a request_id; an invalid request
// that intake refuses without a Docker call). The kinds run interleaved in blocks, rotating the
// order every round, so that a noisy neighbour on the machine hits every kind alike.
import { stat } from 'node:fs/promises';
import type { CpuMeter } from '../lib/cpu.js';
import type { BenchHelm, Timings } from '../lib/helm-instance.js';
import { type BusClient, roundTrip } from '../lib/bus.js';
import { Budget, round, type Summary, summarize } from '../lib/stats.js';

export interface RoundTripKind {
  key: string;
  label: string;
  client: BusClient;
  data: (i: number) => Record<string, unknown>;
  /** Whether the final result is the one expected (Helm kinds only). */
  expect?: (result: Record<string, unknown>) => boolean;
}

export interface RoundTripKindResult {
  key: string;
  label: string;
  latencyMs: Summary;
  unexpected: number;
  firstUnexpected: unknown;
  /** One final result of this kind, as the client received it. */
  sample: unknown;
  errors: number;
  /**
   * CPU ms per request, user + system: `self` is this whole process (Helm + bench client + raw worker);
   * the others are the services (10 ms tick resolution, summed over the blocks, so rough).
   */
  cpuMsPerRequest: Record<string, number>;
  /** Bytes the run log grew per request of this kind (Helm kinds). */
  runLogBytesPerRequest: number | null;
  /** In-situ timings inside Helm, per request of this kind (means). */
  inside: {
    listContainersMs: Summary;
    inspectContainerMs: Summary;
    runLogAppendMs: Summary;
    appendsPerRequest: number;
    dockerCallsPerRequest: number;
  } | null;
}

export interface RoundTripResult {
  n: number;
  warmup: number;
  blockSize: number;
  boundMs: number;
  bounded: boolean;
  elapsedMs: number;
  kinds: RoundTripKindResult[];
}

export async function roundTripSection(opts: {
  kinds: RoundTripKind[];
  helm: BenchHelm;
  runLogPath: string;
  n: number;
  warmup: number;
  blockSize: number;
  boundMs: number;
  cpu: CpuMeter;
  progress: (msg: string) => void;
}): Promise<RoundTripResult> {
  const { kinds, helm, runLogPath, n, warmup, blockSize } = opts;
  const budget = new Budget(opts.boundMs);
  const ttl = () => Math.max(1000, Math.min(10_000, budget.left()));
  const acc = kinds.map(() => ({
    ms: [] as number[],
    unexpected: 0,
    firstUnexpected: undefined as unknown,
    sample: undefined as unknown,
    errors: 0,
    cpu: {} as Record<string, number>,
    bytes: 0,
    counted: 0,
    list: [] as number[],
    inspect: [] as number[],
    append: [] as number[],
  }));
  const size = async () => (await stat(runLogPath)).size;
  const mark = (t: Timings) => ({
    list: t.listContainers.length,
    inspect: t.inspectContainer.length,
    append: t.runLogAppend.length,
  });
  let seq = 0;

  async function block(k: number, count: number, record: boolean): Promise<void> {
    const kind = kinds[k]!;
    const a = acc[k]!;
    const before = await size();
    const t = helm.timings;
    const m = mark(t);
    const cpu0 = opts.cpu.sample();
    let done = 0;
    for (let i = 0; i < count && !budget.expired; i++) {
      try {
        const { ms, result } = await roundTrip(kind.client, kind.data(seq++), ttl());
        done++;
        if (!record) continue;
        a.ms.push(ms);
        a.sample ??= result;
        if (kind.expect && !kind.expect(result as Record<string, unknown>)) {
          a.unexpected++;
          a.firstUnexpected ??= result;
        }
      } catch (err) {
        if (record) a.errors++;
        opts.progress(`  ${kind.key}: ${(err as Error).message}`);
      }
    }
    if (!record) return;
    const d = opts.cpu.since(cpu0);
    for (const [name, ms] of Object.entries({ self: d.selfMs, self_system: d.selfSysMs, ...d.servicesMs }))
      a.cpu[name] = (a.cpu[name] ?? 0) + ms;
    a.bytes += (await size()) - before;
    a.counted += done;
    a.list.push(...t.listContainers.slice(m.list));
    a.inspect.push(...t.inspectContainer.slice(m.inspect));
    a.append.push(...t.runLogAppend.slice(m.append));
  }

  for (let k = 0; k < kinds.length; k++) await block(k, warmup, false);
  opts.progress(`  warm-up done (${warmup} of each kind)`);
  const rounds = Math.ceil(n / blockSize);
  for (let r = 0; r < rounds && !budget.expired; r++) {
    for (let j = 0; j < kinds.length; j++) {
      const k = (r + j) % kinds.length;
      await block(k, Math.min(blockSize, n - r * blockSize), true);
    }
    opts.progress(`  round ${r + 1}/${rounds} (${Math.round(budget.elapsed() / 1000)} s)`);
  }

  return {
    n,
    warmup,
    blockSize,
    boundMs: opts.boundMs,
    bounded: acc.some((a) => a.ms.length < n),
    elapsedMs: Math.round(budget.elapsed()),
    kinds: kinds.map((kind, k) => {
      const a = acc[k]!;
      const isHelm = kind.expect !== undefined;
      return {
        key: kind.key,
        label: kind.label,
        latencyMs: summarize(a.ms),
        unexpected: a.unexpected,
        firstUnexpected: a.firstUnexpected ?? null,
        sample: a.sample ?? null,
        errors: a.errors,
        cpuMsPerRequest: Object.fromEntries(
          Object.entries(a.cpu).map(([name, ms]) => [
            name,
            a.counted > 0 ? round(ms / a.counted, 2) : Number.NaN,
          ]),
        ),
        runLogBytesPerRequest: isHelm && a.counted > 0 ? Math.round(a.bytes / a.counted) : null,
        inside:
          isHelm && a.counted > 0
            ? {
                listContainersMs: summarize(a.list),
                inspectContainerMs: summarize(a.inspect),
                runLogAppendMs: summarize(a.append),
                appendsPerRequest: a.append.length / a.counted,
                dockerCallsPerRequest: (a.list.length + a.inspect.length) / a.counted,
              }
            : null,
      };
    }),
  };
}
