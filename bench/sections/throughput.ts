// Section 2: 1000 jobs added with one addBulk, timed until the last one completed: raw BullMQ no-op at
// concurrency 16 against Helm's health_check at its default gate concurrency (16). Done in rounds
// (raw, Helm, raw, Helm) so a burst of load from elsewhere on the machine shows as a spread between
// rounds rather than as a skewed ratio; the ratio is taken on the totals.
import { stat } from 'node:fs/promises';
import { type BurstResult, type BusClient, burst } from '../lib/bus.js';
import type { CpuMeter } from '../lib/cpu.js';
import { Budget, ratio, round } from '../lib/stats.js';

export interface ThroughputRun extends Omit<BurstResult, 'returnValues'> {
  key: string;
  label: string;
  round: number;
  /** Helm only: results that were not executed + healthy. */
  unexpected: number | null;
  runLogBytesPerRequest: number | null;
}

export interface ThroughputTotal {
  key: string;
  label: string;
  completed: number;
  ms: number;
  jobsPerS: number;
  /** Slowest and fastest round, jobs/s. */
  minJobsPerS: number;
  maxJobsPerS: number;
}

export interface ThroughputResult {
  count: number;
  rounds: number;
  concurrency: number;
  boundMs: number;
  bounded: boolean;
  runs: ThroughputRun[];
  totals: ThroughputTotal[];
  /** Helm jobs/s ÷ raw BullMQ jobs/s, on the totals. */
  helmOverBaseline: number;
  baselineOverHelm: number;
}

export async function throughputSection(opts: {
  baseline: { client: BusClient; data: (i: number) => Record<string, unknown> };
  helm: {
    client: BusClient;
    data: (i: number) => Record<string, unknown>;
    expect: (r: Record<string, unknown>) => boolean;
  };
  runLogPath: string;
  count: number;
  rounds: number;
  concurrency: number;
  boundMs: number;
  cpu: CpuMeter;
  progress: (msg: string) => void;
}): Promise<ThroughputResult> {
  const section = new Budget(opts.boundMs);
  const runs: ThroughputRun[] = [];
  const pack = (key: string, label: string, r: number, b: BurstResult, extra: Partial<ThroughputRun>) => {
    const { returnValues: _, ...rest } = b;
    runs.push({
      key,
      label,
      round: r,
      ...rest,
      ms: round(b.ms, 1),
      jobsPerS: round(b.jobsPerS, 1),
      unexpected: null,
      runLogBytesPerRequest: null,
      ...extra,
    });
  };

  for (let r = 1; r <= opts.rounds && !section.expired; r++) {
    const roundsLeft = opts.rounds - r + 1;
    // Raw BullMQ gets at most a quarter of this round's share; Helm whatever is left of it.
    const share = section.left() / roundsLeft;
    const b = await burst(
      opts.baseline.client,
      opts.count,
      opts.baseline.data,
      new Budget(share / 4),
      opts.cpu,
    );
    opts.progress(`  round ${r}: raw BullMQ ${b.completed} in ${Math.round(b.ms)} ms`);
    pack('baseline', 'raw BullMQ no-op', r, b, {});
    if (section.expired) break;

    const before = (await stat(opts.runLogPath)).size;
    const h = await burst(
      opts.helm.client,
      opts.count,
      opts.helm.data,
      new Budget(section.left() / roundsLeft),
      opts.cpu,
    );
    const after = (await stat(opts.runLogPath)).size;
    opts.progress(`  round ${r}: Helm ${h.completed} in ${Math.round(h.ms)} ms`);
    const unexpected = h.returnValues.filter((v) => {
      const res = (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>;
      return !opts.helm.expect(res);
    }).length;
    pack('helm_health', 'Helm health_check', r, h, {
      unexpected,
      runLogBytesPerRequest: h.completed > 0 ? Math.round((after - before) / h.completed) : null,
    });
  }

  const totals = ['baseline', 'helm_health'].flatMap((key) => {
    const mine = runs.filter((x) => x.key === key);
    if (mine.length === 0) return [];
    const completed = mine.reduce((a, x) => a + x.completed + x.failed, 0);
    const ms = mine.reduce((a, x) => a + x.ms, 0);
    return [
      {
        key,
        label: mine[0]!.label,
        completed,
        ms: round(ms, 1),
        jobsPerS: round((completed / ms) * 1000, 1),
        minJobsPerS: Math.min(...mine.map((x) => x.jobsPerS)),
        maxJobsPerS: Math.max(...mine.map((x) => x.jobsPerS)),
      },
    ];
  });
  const b = totals.find((t) => t.key === 'baseline')?.jobsPerS ?? Number.NaN;
  const h = totals.find((t) => t.key === 'helm_health')?.jobsPerS ?? Number.NaN;
  return {
    count: opts.count,
    rounds: opts.rounds,
    concurrency: opts.concurrency,
    boundMs: opts.boundMs,
    bounded: runs.some((x) => x.bounded) || runs.length < opts.rounds * 2,
    runs,
    totals,
    helmOverBaseline: ratio(h, b),
    baselineOverHelm: ratio(b, h),
  };
}
