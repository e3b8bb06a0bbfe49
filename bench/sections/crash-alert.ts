// Section 7: crash → alert with the advisor off and on (issue 10: the advisor must not slow the
// downtime alert). Two more Helms in this process, each with its own prefix, memory folder and scope,
// monitor worker on: one with HELM_ADVISOR=off, one with HELM_ADVISOR=on whose models are the fakes of
// bench/lib/fake-models.ts (valid advice after a deliberate delay). Rounds alternate off/on (the order
// flipping each round, so load from elsewhere hits both alike): a production web container in that
// Helm's scope, healthy, killed for real; timed from just before the kill to the downtime alert's
// arrival on that Helm's sentinel.alerts (a QueueEvents `added` event, as a Sentinel would see it), and
// for the advisor-on Helm also to its `diagnosis` alert.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import type Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import { deletePrefix } from '../lib/bus.js';
import { startFakeModels } from '../lib/fake-models.js';
import { type BenchHelm, benchHelmEnv, startBenchHelm } from '../lib/helm-instance.js';
import { Budget, ratio, round, type Summary, sleep, summarize } from '../lib/stats.js';
import { type Cell, formatTable } from '../lib/table.js';
import { removeContainer, startWebContainer } from '../lib/web-container.js';
import { removeOwnTempDir } from './components.js';

export interface CrashAlertInput {
  docker: Dockerode;
  redisUrl: string;
  runId: string;
  rounds: number;
  /** Rounds per Helm before the counted ones (not counted). */
  warmupRounds: number;
  /** How long each fake model call takes before it answers. */
  modelDelayMs: number;
  /** Wait after the container is healthy before the kill (the monitor has read its facts by then). */
  settleMs: number;
  downtimeTimeoutMs: number;
  diagnosisTimeoutMs: number;
  boundMs: number;
  /** The bench's cleanup steps (run at the end, on failure and on signals): this section adds its own. */
  cleanup: Array<() => Promise<unknown>>;
  progress: (msg: string) => void;
}

export interface CrashAlertSide {
  key: 'advisor_off' | 'advisor_on';
  label: string;
  rounds: number;
  killToDowntimeMs: Summary;
  killToDiagnosisMs: Summary | null;
  /** Per counted round, in order (ms). */
  downtimeSamplesMs: number[];
  diagnosisSamplesMs: number[] | null;
  missedDowntime: number;
  missedDiagnosis: number;
  helmLogLinesAtWarn: number;
  helmLogFirstMessages: string[];
}

export interface CrashAlertResult {
  roundsPerSide: number;
  warmupRounds: number;
  modelDelayMs: number;
  sides: CrashAlertSide[];
  /** Advisor on ÷ advisor off, kill → downtime alert (1.0 = unchanged). */
  onOverOff: { p50: number; p95: number; mean: number };
  modelCalls: { ollama: number; anthropic: number };
  fakeModelFailures: string[];
  killCallMs: Summary;
  bounded: boolean;
  boundMs: number;
  elapsedMs: number;
}

interface Side {
  key: CrashAlertSide['key'];
  label: string;
  scope: Record<string, string>;
  helm: BenchHelm;
  watch: AlertWatch;
  downtime: number[];
  diagnosis: number[] | null;
  missedDowntime: number;
  missedDiagnosis: number;
  rounds: number;
}

export async function crashAlertSection(o: CrashAlertInput): Promise<CrashAlertResult> {
  const budget = new Budget(o.boundMs);
  const target = { service: '' };
  const models = await startFakeModels(o.modelDelayMs, () => target.service);
  o.cleanup.push(() => models.close());
  const admin = new Redis(o.redisUrl, {
    maxRetriesPerRequest: null,
    connectionName: `${o.runId}-crash-admin`,
  });
  o.cleanup.push(async () => admin.disconnect());
  const off = await startSide(o, admin, 'advisor_off', { HELM_ADVISOR: 'off' });
  const on = await startSide(o, admin, 'advisor_on', { HELM_ADVISOR: 'on', ...models.env });
  const live = new Set<string>();
  o.cleanup.push(async () => {
    for (const id of live) await removeContainer(o.docker, id);
  });

  const killCalls: number[] = [];
  // Rounds below 0 are warm-ups for each Helm (first model call, first evidence read), not counted.
  for (let i = -o.warmupRounds; i < o.rounds && !budget.expired; i++) {
    for (const side of i % 2 === 0 ? [off, on] : [on, off]) {
      if (budget.expired) break;
      const web = await startWebContainer(o.docker, `${o.runId}-crash`, {
        ...side.scope,
        'ghost.environment': 'production',
      });
      live.add(web.id);
      try {
        target.service = web.service;
        await sleep(o.settleMs);
        const t0 = performance.now();
        await o.docker.getContainer(web.id).kill();
        if (i >= 0) killCalls.push(performance.now() - t0);
        await timeAlerts(side, web.service, t0, o, i >= 0);
      } finally {
        await removeContainer(o.docker, web.id);
        live.delete(web.id);
      }
    }
    o.progress(i < 0 ? '  warm-up round done' : `  round ${i + 1}/${o.rounds} done`);
  }

  const sides = [off, on].map((s) => sideResult(s));
  const [a, b] = sides.map((s) => s.killToDowntimeMs) as [Summary, Summary];
  return {
    roundsPerSide: o.rounds,
    warmupRounds: o.warmupRounds,
    modelDelayMs: o.modelDelayMs,
    sides,
    onOverOff: { p50: ratio(b.p50, a.p50), p95: ratio(b.p95, a.p95), mean: ratio(b.mean, a.mean) },
    modelCalls: models.calls(),
    fakeModelFailures: models.failures(),
    killCallMs: summarize(killCalls),
    bounded: budget.expired,
    boundMs: o.boundMs,
    elapsedMs: round(budget.elapsed(), 0),
  };
}

/**
 * Waits for this round's downtime alert (and the diagnosis, advisor on) and records the times when the
 * round counts; a missed alert is counted in a warm-up round too.
 */
async function timeAlerts(
  side: Side,
  service: string,
  t0: number,
  o: CrashAlertInput,
  counted: boolean,
): Promise<void> {
  if (counted) side.rounds++;
  const down = await side.watch.arrival('downtime', service, t0, o.downtimeTimeoutMs);
  if (down === null) side.missedDowntime++;
  else if (counted) side.downtime.push(down - t0);
  if (!side.diagnosis) return;
  const diag = await side.watch.arrival('diagnosis', service, t0, o.diagnosisTimeoutMs);
  if (diag === null) side.missedDiagnosis++;
  else if (counted) side.diagnosis.push(diag - t0);
}

/** One Helm the way bench/lib/helm-instance.ts starts one, its alert watch, and its cleanup steps. */
async function startSide(
  o: CrashAlertInput,
  admin: Redis,
  key: Side['key'],
  env: Record<string, string>,
): Promise<Side> {
  const name = `${o.runId}-crash-${key === 'advisor_on' ? 'on' : 'off'}`;
  const memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-bench-crash-'));
  o.cleanup.push(() => removeOwnTempDir(memoryDir));
  // Before Helm starts, so that it runs after Helm closed (cleanup runs in reverse).
  o.cleanup.push(() => deletePrefix(admin, name));
  const helm = await startBenchHelm({
    ...benchHelmEnv({
      redisUrl: o.redisUrl,
      prefix: name,
      memoryDir,
      scope: `helm.bench-scope=${name}`,
      instance: name,
    }),
    ...env,
  });
  o.cleanup.push(() => helm.close());
  const watch = await AlertWatch.start(o.redisUrl, name);
  o.cleanup.push(() => watch.close());
  return {
    key,
    label: key === 'advisor_on' ? `advisor on (models answer after ${o.modelDelayMs} ms)` : 'advisor off',
    scope: { 'helm.bench-scope': name },
    helm,
    watch,
    downtime: [],
    diagnosis: key === 'advisor_on' ? [] : null,
    missedDowntime: 0,
    missedDiagnosis: 0,
    rounds: 0,
  };
}

function sideResult(s: Side): CrashAlertSide {
  return {
    key: s.key,
    label: s.label,
    rounds: s.rounds,
    killToDowntimeMs: summarize(s.downtime),
    killToDiagnosisMs: s.diagnosis ? summarize(s.diagnosis) : null,
    downtimeSamplesMs: s.downtime.map((x) => round(x, 1)),
    diagnosisSamplesMs: s.diagnosis?.map((x) => round(x, 1)) ?? null,
    missedDowntime: s.missedDowntime,
    missedDiagnosis: s.missedDiagnosis,
    helmLogLinesAtWarn: s.helm.logLines(),
    helmLogFirstMessages: s.helm.firstMessages(),
  };
}

/**
 * Sentinel's view of one Helm's sentinel.alerts: when each alert was added (the `added` event, read as
 * it comes), and what it is about (the job's data, read afterwards: the job name is the alert's kind).
 */
class AlertWatch {
  private readonly arrivals: Array<{ jobId: string; kind: string; at: number }> = [];
  private readonly targets = new Map<string, string | undefined>();

  private constructor(
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly connections: Redis[],
  ) {
    events.on('added', ({ jobId, name }) => this.arrivals.push({ jobId, kind: name, at: performance.now() }));
  }

  static async start(redisUrl: string, prefix: string): Promise<AlertWatch> {
    const connect = (what: string) =>
      new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: `bench-${what}-${prefix}` });
    const redis = connect('alerts');
    const eventsConnection = connect('alert-events');
    const queue = new Queue('sentinel.alerts', { connection: redis, prefix });
    const events = new QueueEvents('sentinel.alerts', { connection: eventsConnection, prefix });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new AlertWatch(queue, events, [eventsConnection, redis]);
  }

  /** When the first `kind` alert about `target` after `since` arrived, or null if none did in time. */
  async arrival(kind: string, target: string, since: number, timeoutMs: number): Promise<number | null> {
    const budget = new Budget(timeoutMs);
    for (;;) {
      for (const a of this.arrivals)
        if (a.kind === kind && a.at >= since && (await this.targetOf(a.jobId)) === target) return a.at;
      if (budget.expired) return null;
      await sleep(10);
    }
  }

  private async targetOf(jobId: string): Promise<string | undefined> {
    if (!this.targets.has(jobId)) {
      const job = await this.queue.getJob(jobId);
      this.targets.set(jobId, (job?.data as { target?: string } | undefined)?.target);
    }
    return this.targets.get(jobId);
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }
}

/** The section's printed table and notes. */
export function crashAlertReport(r: CrashAlertResult): string {
  const row = (label: string, s: Summary | null, extra: Cell[]): Cell[] =>
    s ? [label, s.n, s.p50, s.p95, s.mean, s.max, ...extra] : [label, 0, null, null, null, null, ...extra];
  const rows: Cell[][] = r.sides.flatMap((s) => [
    row(`${s.label}: kill → downtime`, s.killToDowntimeMs, [s.missedDowntime]),
    ...(s.killToDiagnosisMs
      ? [row(`${s.label}: kill → diagnosis`, s.killToDiagnosisMs, [s.missedDiagnosis])]
      : []),
  ]);
  const q = r.onOverOff;
  return [
    formatTable(['Helm: from the kill to the alert', 'n', 'p50', 'p95', 'mean', 'max', 'missed'], rows),
    `(ratio advisor on ÷ off, kill → downtime: p50 ${q.p50}, p95 ${q.p95}, mean ${q.mean}; 1 = unchanged)`,
    `(model calls: Anthropic ${r.modelCalls.anthropic}, Ollama ${r.modelCalls.ollama}; docker kill call p50 ${r.killCallMs.p50} ms; ${r.bounded ? 'BOUNDED: stopped at' : 'bound'} ${r.boundMs / 1000} s, took ${round(r.elapsedMs / 1000, 1)} s)`,
    ...r.sides.map(
      (s) =>
        `  ${s.label}, kill → downtime by round: ${s.downtimeSamplesMs.map((x) => round(x, 0)).join(' ')}`,
    ),
    ...r.sides
      .filter((s) => s.helmLogLinesAtWarn > 0)
      .map(
        (s) =>
          `  ${s.label}: ${s.helmLogLinesAtWarn} log lines at warn+ (${s.helmLogFirstMessages.join(' | ')})`,
      ),
    ...(r.fakeModelFailures.length > 0 ? [`  fake model failures: ${r.fakeModelFailures.join(' | ')}`] : []),
  ].join('\n');
}
