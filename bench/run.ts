// `npm run bench`: Helm's speed and memory side by side with baselines measured in the same run (raw
// BullMQ, the docker CLI), reported as ratios. Prints a table and writes bench/results/latest.json.
// Every section stops by itself at its time bound and reports what it got. See bench/README.md.
//
// Env: HELM_BENCH_REDIS_URL (redis://127.0.0.1:6399), DOCKER_HOST (the default socket),
//      HELM_BENCH_KEEP=1 keeps the memory folder (run log) for a look afterwards.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import type { Config } from '../src/config/config.js';
import { dockerOptions } from '../src/docker/dockerode-connection.js';
import { makeDockerReads } from '../src/docker/dockerode-reads.js';
import { type BusClient, deletePrefix, makeClient, startNoopWorker } from './lib/bus.js';
import { cleanupOnExit } from './lib/cleanup.js';
import { CpuMeter, findServices } from './lib/cpu.js';
import { type BenchHelm, benchHelmEnv, startBenchHelm } from './lib/helm-instance.js';
import { type MachineFacts, machineFacts, type MemorySnapshot, memorySnapshot } from './lib/machine.js';
import { ratio, round, type Summary } from './lib/stats.js';
import { type Cell, formatTable, heading } from './lib/table.js';
import {
  removeContainer,
  startWebContainer,
  sweepStaleBenchContainers,
  WEB_IMAGE,
  type WebContainer,
} from './lib/web-container.js';
import { type ComponentsResult, componentsSection, removeOwnTempDir } from './sections/components.js';
import { type CrashAlertResult, crashAlertReport, crashAlertSection } from './sections/crash-alert.js';
import { type DockerReadsResult, dockerReadsSection } from './sections/docker-reads.js';
import { type CommandCountResult, redisCommandsSection } from './sections/redis-commands.js';
import { type RoundTripKind, type RoundTripResult, roundTripSection } from './sections/round-trip.js';
import { type StatusPageResult, statusPageReport, statusPageSection } from './sections/status-page.js';
import { type ThroughputResult, throughputSection } from './sections/throughput.js';
import { runHostsOnly } from './sections/hosts-only.js';

// Counts and time bounds. A section that reaches its bound stops and reports what it got; the bounds
// add up to under four minutes. A section still running 15 s past its bound (a hung call) fails the run.
const PLAN = {
  roundTrip: { n: 300, warmup: 30, blockSize: 50, boundMs: 45_000 },
  throughput: { count: 1000, rounds: 2, boundMs: 45_000 },
  dockerReads: { n: 100, warmup: 5, blockSize: 20, boundMs: 30_000 },
  components: { n: 100, boundMs: 15_000 },
  redisCommands: { n: 20, boundMs: 10_000 },
  crashAlert: {
    rounds: 10,
    warmupRounds: 1,
    modelDelayMs: 300,
    settleMs: 500,
    downtimeTimeoutMs: 10_000,
    diagnosisTimeoutMs: 20_000,
    boundMs: 90_000,
  },
  statusPage: { services: 50, windowMs: 20_000, scrapes: 200, blockSize: 20, boundMs: 180_000 },
  // Section 9, only with --only=hosts (it needs the second engine of scripts/test-env.sh).
  hosts: { count: 1000, rounds: 2, boundMs: 120_000 },
};
const HARD_SLACK_MS = 15_000;

/** The safety net behind a section's own bound: rejects if it has not stopped by bound + slack. */
function hardBound<T>(what: string, boundMs: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not stop within ${(boundMs + HARD_SLACK_MS) / 1000} s`)),
      boundMs + HARD_SLACK_MS,
    );
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

const here = path.dirname(fileURLToPath(import.meta.url));
const progress = (msg: string) => process.stderr.write(`${msg}\n`);

function loopbackRedisUrl(): string {
  const url = process.env['HELM_BENCH_REDIS_URL'] ?? 'redis://127.0.0.1:6399';
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]')
    throw new Error(`HELM_BENCH_REDIS_URL must point at loopback, got ${host}`);
  return url;
}

/** `--only=<section>` runs that section alone (the machine is shared): `status-page`, `hosts`. */
function onlySection(argv: readonly string[]): string | null {
  const i = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i < 0) return null;
  const name = argv[i]!.startsWith('--only=') ? argv[i]!.slice('--only='.length) : argv[i + 1];
  if (name !== 'status-page' && name !== 'hosts')
    throw new Error(`--only: unknown section "${name ?? ''}" (known: status-page, hosts)`);
  return name;
}

/** Section 8 alone: its own Helm process and containers, cleaned up like a whole run's. */
async function runStatusPageOnly(): Promise<void> {
  const startedAt = new Date();
  const redisUrl = loopbackRedisUrl();
  const runId = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const docker = new Dockerode(dockerOptions(process.env['DOCKER_HOST']));
  const { steps: cleanup, run: runCleanup } = cleanupOnExit(progress);
  try {
    const swept = await sweepStaleBenchContainers(docker);
    if (swept > 0) progress(`removed ${swept} bench container(s) left by earlier runs`);
    const { boundMs, ...plan } = PLAN.statusPage;
    const page = await hardBound(
      'section 8',
      boundMs,
      statusPageSection({ docker, redisUrl, runId, ...plan, boundMs, cleanup, progress }),
    );
    await runCleanup();
    console.log(
      heading(`8. the status page and /metrics (${page.services} services; Helm as its own process)`),
    );
    console.log(statusPageReport(page));
    console.log(
      `\nload average at end: ${os
        .loadavg()
        .map((v) => round(v, 2))
        .join(' / ')}`,
    );
    const outDir = path.join(here, 'results');
    await mkdir(outDir, { recursive: true });
    const out = path.join(outDir, 'status-page.json');
    await writeFile(
      out,
      `${JSON.stringify({ startedAt: startedAt.toISOString(), plan: PLAN.statusPage, statusPage: page }, null, 2)}\n`,
    );
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    await runCleanup();
  }
}

async function main(): Promise<void> {
  const only = onlySection(process.argv.slice(2));
  if (only === 'status-page') return runStatusPageOnly();
  if (only === 'hosts') return runHostsOnly(PLAN.hosts, loopbackRedisUrl(), progress);
  const startedAt = new Date();
  const memory: MemorySnapshot[] = [memorySnapshot('start (modules loaded, nothing running)')];
  const redisUrl = loopbackRedisUrl();
  const runId = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const helmPrefix = `${runId}-helm`;
  const basePrefix = `${runId}-raw`;
  const docker = new Dockerode(dockerOptions(process.env['DOCKER_HOST']));
  const cleanup: Array<() => Promise<unknown>> = [];
  const runCleanup = async () => {
    for (const fn of cleanup.splice(0).reverse())
      await fn().catch((err: unknown) => progress(`cleanup step failed: ${(err as Error).message}`));
  };
  let interrupted = false;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    progress(`${sig}: cleaning up`);
    void runCleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const swept = await sweepStaleBenchContainers(docker);
    if (swept > 0) progress(`removed ${swept} bench container(s) left by earlier runs`);

    const memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-bench-mem-'));
    const componentsDir = await mkdtemp(path.join(os.tmpdir(), 'helm-bench-parts-'));
    if (process.env['HELM_BENCH_KEEP'] !== '1') cleanup.push(() => removeOwnTempDir(memoryDir));
    cleanup.push(() => removeOwnTempDir(componentsDir));

    progress('starting the web container (waits for its Docker HEALTHCHECK)…');
    const web: WebContainer = await startWebContainer(docker, runId);
    cleanup.push(() => removeContainer(docker, web.id));

    // Registered before Helm starts, so that it runs after Helm closed (cleanup runs in reverse), even
    // when Helm fails half-way through its start.
    const keyCounts: Record<string, number> = {};
    const admin = new Redis(redisUrl, { maxRetriesPerRequest: null, connectionName: `${runId}-admin` });
    cleanup.push(async () => {
      keyCounts['helm'] = await deletePrefix(admin, helmPrefix);
      keyCounts['raw'] = await deletePrefix(admin, basePrefix);
      admin.disconnect();
    });

    const helm: BenchHelm = await startBenchHelm(
      benchHelmEnv({
        redisUrl,
        prefix: helmPrefix,
        memoryDir,
        scope: `helm.test-run=${runId}`,
        instance: runId,
      }),
    );
    cleanup.push(() => helm.close());
    const config = helm.helm.config;
    const retention = { age: config.requestIdWindowS, count: config.jobRetentionCount };
    const noop = startNoopWorker(redisUrl, basePrefix, config.gateConcurrency, retention);
    cleanup.push(() => noop.close());
    const helmClient: BusClient = await makeClient(redisUrl, helmPrefix);
    cleanup.push(() => helmClient.close());
    const baseClient: BusClient = await makeClient(redisUrl, basePrefix);
    cleanup.push(() => baseClient.close());
    const runLogPath = helm.helm.runLog.path;

    const facts = await machineFacts(docker, admin, memoryDir);
    const dockerSocket = (dockerOptions(process.env['DOCKER_HOST']).socketPath as string | undefined) ?? '';
    const services = findServices(new URL(redisUrl).port || '6379', dockerSocket);
    const cpu = new CpuMeter(services);
    const machine = { ...facts, cpuWatched: cpu.watched, cpuWatchedPids: services };
    printMachine(machine, web, config.gateConcurrency);
    memory.push(memorySnapshot('Helm started, idle'));

    let helmRequests = 0;
    const health = (): Record<string, unknown> => {
      helmRequests++;
      return { action: 'health_check', target: web.service, environment: 'dev', reason: 'bench' };
    };
    const healthy = (r: Record<string, unknown>) =>
      r['status'] === 'executed' && (r['data'] as { healthy?: unknown } | undefined)?.healthy === true;
    const refused = (r: Record<string, unknown>) =>
      r['status'] === 'failed' && (r['error'] as { code?: unknown } | undefined)?.code === 'invalid_request';
    const sameShape = () => ({
      action: 'health_check',
      target: web.service,
      environment: 'dev',
      reason: 'bench',
    });

    // --- 1. round trip, one at a time ---------------------------------------------------------------
    progress('1. bus round trip, one at a time…');
    const kinds: RoundTripKind[] = [
      { key: 'baseline', label: 'raw BullMQ no-op', client: baseClient, data: sameShape },
      { key: 'helm_health', label: 'Helm health_check', client: helmClient, data: health, expect: healthy },
      {
        key: 'helm_health_rid',
        label: 'Helm health_check + request_id',
        client: helmClient,
        data: (i) => ({ ...health(), request_id: `bench:${runId}:${i}` }),
        expect: healthy,
      },
      {
        key: 'helm_invalid',
        label: 'Helm invalid (refused at intake)',
        client: helmClient,
        data: () => {
          helmRequests++;
          return { action: 'health_check', target: web.service, environment: 'dev' }; // no reason
        },
        expect: refused,
      },
    ];
    const rt = await hardBound(
      'section 1',
      PLAN.roundTrip.boundMs,
      roundTripSection({ kinds, helm, runLogPath, ...PLAN.roundTrip, cpu, progress }),
    );
    memory.push(memorySnapshot('after 1. round trips'));

    // --- 2. throughput --------------------------------------------------------------------------------
    progress(`2. throughput (${PLAN.throughput.count} jobs, addBulk)…`);
    const tp = await hardBound(
      'section 2',
      PLAN.throughput.boundMs,
      throughputSection({
        baseline: { client: baseClient, data: sameShape },
        helm: { client: helmClient, data: health, expect: healthy },
        runLogPath,
        count: PLAN.throughput.count,
        rounds: PLAN.throughput.rounds,
        concurrency: config.gateConcurrency,
        boundMs: PLAN.throughput.boundMs,
        cpu,
        progress,
      }),
    );
    memory.push(memorySnapshot('after 2. throughput'));

    // --- 3. Docker reads ------------------------------------------------------------------------------
    progress('3. Docker reads: dockerode vs docker CLI…');
    const dr = await hardBound(
      'section 3',
      PLAN.dockerReads.boundMs,
      dockerReadsSection({
        docker: makeDockerReads(config.dockerHost),
        containerId: web.id,
        ...PLAN.dockerReads,
        progress,
      }),
    );

    // --- 5. pieces, alone -----------------------------------------------------------------------------
    progress('5. pieces of a request, timed alone…');
    const sampleResult = (rt.kinds.find((k) => k.key === 'helm_health')?.sample ?? {}) as Record<
      string,
      unknown
    >;
    const parts = await hardBound(
      'section 5',
      PLAN.components.boundMs,
      componentsSection({
        dir: componentsDir,
        redis: admin,
        prefix: helmPrefix,
        sampleResult,
        ...PLAN.components,
      }),
    );

    // --- 6. Redis commands per request (MONITOR; nothing timed) ---------------------------------------
    progress('6. Redis commands per request (MONITOR, not timed)…');
    const rc = await hardBound(
      'section 6',
      PLAN.redisCommands.boundMs,
      redisCommandsSection({ redisUrl, runId, kinds, ...PLAN.redisCommands }),
    );
    memory.push(memorySnapshot('end of the runs'));

    // --- 7. crash → alert, advisor off vs on (two more Helms; after the memory snapshots) ------------
    progress(`7. crash → alert, advisor off vs on (${PLAN.crashAlert.rounds} kills each)…`);
    const { boundMs: crashBoundMs, ...crashPlan } = PLAN.crashAlert;
    const crash = await hardBound(
      'section 7',
      crashBoundMs,
      crashAlertSection({ docker, redisUrl, runId, ...crashPlan, boundMs: crashBoundMs, cleanup, progress }),
    );

    // --- 8. the status page and /metrics (a Helm process of its own, 50 services) ------------------
    progress('8. the status page and /metrics…');
    const { boundMs: pageBoundMs, ...pagePlan } = PLAN.statusPage;
    const page = await hardBound(
      'section 8',
      pageBoundMs,
      statusPageSection({ docker, redisUrl, runId, ...pagePlan, boundMs: pageBoundMs, cleanup, progress }),
    );

    // --- 4. memory and run log ------------------------------------------------------------------------
    const runLogBytes = (await stat(runLogPath)).size;
    const runLogLines = (await readFile(runLogPath, 'utf8'))
      .split('\n')
      .filter((l) => l.startsWith('- ')).length;
    const runLog: RunLogFacts = {
      path: runLogPath,
      fs: machine.memoryDirFs,
      bytes: runLogBytes,
      helmRequests,
      bytesPerRequest: helmRequests > 0 ? Math.round(runLogBytes / helmRequests) : null,
      entryLines: runLogLines,
      bytesPerRequestByKind: Object.fromEntries([
        ...rt.kinds
          .filter((k) => k.runLogBytesPerRequest !== null)
          .map((k) => [k.key, k.runLogBytesPerRequest]),
        ...tp.runs
          .filter((x) => x.key === 'helm_health')
          .map((x) => [`throughput_round_${x.round}`, x.runLogBytesPerRequest]),
      ]),
      helmLogLinesAtWarn: helm.logLines(),
      helmLogFirstMessages: helm.firstMessages(),
    };

    const results = assemble({
      startedAt,
      machine,
      config,
      web,
      rt,
      tp,
      dr,
      parts,
      rc,
      crash,
      page,
      memory,
      runLog,
      keyCounts,
    });

    await runCleanup();
    printResults(results);
    const outDir = path.join(here, 'results');
    await mkdir(outDir, { recursive: true });
    const out = path.join(outDir, 'latest.json');
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), out)} (${results.durationS} s in all)`);
  } finally {
    await runCleanup();
  }
}

// --- derived numbers ---------------------------------------------------------------------------------

type KindResult = RoundTripResult['kinds'][number];

interface AssembleInput {
  startedAt: Date;
  machine: MachineFacts & { cpuWatched: string[]; cpuWatchedPids: Record<string, number> };
  config: Readonly<Config>;
  web: WebContainer;
  rt: RoundTripResult;
  tp: ThroughputResult;
  dr: DockerReadsResult;
  parts: ComponentsResult;
  rc: CommandCountResult;
  crash: CrashAlertResult;
  page: StatusPageResult;
  memory: MemorySnapshot[];
  runLog: RunLogFacts;
  keyCounts: Record<string, number>;
}

interface RunLogFacts {
  path: string;
  fs: string;
  bytes: number;
  helmRequests: number;
  bytesPerRequest: number | null;
  entryLines: number;
  bytesPerRequestByKind: Record<string, number | null>;
  helmLogLinesAtWarn: number;
  helmLogFirstMessages: string[];
}

function assemble(x: AssembleInput) {
  return {
    startedAt: x.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationS: round((Date.now() - x.startedAt.getTime()) / 1000, 1),
    machine: { ...x.machine, loadAvgAtEnd: os.loadavg().map((v) => round(v, 2)) },
    plan: PLAN,
    helmConfig: {
      gateConcurrency: x.config.gateConcurrency,
      lockDurationMs: x.config.lockDurationMs,
      jobRetentionCount: x.config.jobRetentionCount,
    },
    container: { name: x.web.name, service: x.web.service, image: WEB_IMAGE, check: 'Docker HEALTHCHECK' },
    roundTrip: x.rt,
    roundTripRatios: roundTripRatios(x.rt.kinds),
    breakdown: breakdown(x.rt.kinds),
    throughput: x.tp,
    dockerReads: x.dr,
    components: x.parts,
    redisCommands: x.rc,
    crashAlert: x.crash,
    statusPage: x.page,
    memory: x.memory,
    runLog: x.runLog,
    redisKeysDeleted: x.keyCounts,
  };
}

type Results = ReturnType<typeof assemble>;

function roundTripRatios(kinds: KindResult[]) {
  const base = kinds.find((k) => k.key === 'baseline')!.latencyMs;
  return kinds
    .filter((k) => k.key !== 'baseline')
    .map((k) => ({
      key: k.key,
      p50: ratio(k.latencyMs.p50, base.p50),
      p95: ratio(k.latencyMs.p95, base.p95),
      p99: ratio(k.latencyMs.p99, base.p99),
      mean: ratio(k.latencyMs.mean, base.mean),
      extraMeanMs: round(k.latencyMs.mean - base.mean, 2),
    }));
}

/** Where a Helm request's mean time goes: measured inside Helm during section 1, per request. */
function breakdown(kinds: KindResult[]) {
  const base = kinds.find((k) => k.key === 'baseline')!.latencyMs.mean;
  return kinds.flatMap((k) => {
    const i = k.inside;
    if (!i) return [];
    const perRequest = (s: Summary) => (s.n > 0 ? (s.n / Math.max(1, k.latencyMs.n)) * s.mean : 0);
    const appends = perRequest(i.runLogAppendMs);
    const list = perRequest(i.listContainersMs);
    const inspect = perRequest(i.inspectContainerMs);
    const total = k.latencyMs.mean;
    return [
      {
        key: k.key,
        totalMeanMs: total,
        busBaselineMs: round(base, 2),
        runLogAppendsMs: round(appends, 2),
        appendsPerRequest: round(i.appendsPerRequest, 2),
        dockerListMs: round(list, 2),
        dockerInspectMs: round(inspect, 2),
        restMs: round(total - base - appends - list - inspect, 2),
      },
    ];
  });
}

// --- printing ----------------------------------------------------------------------------------------

function printMachine(m: MachineFacts, web: WebContainer, concurrency: number) {
  console.log(heading('machine'));
  console.log(
    formatTable(
      ['fact', 'value'],
      [
        ['node', `${m.node} (V8 ${m.v8})`],
        ['platform', m.platform],
        ['cores', `${m.cores} × ${m.cpuModel}`],
        ['memory', `${m.totalMemMB} MB`],
        ['load average at start', m.loadAvgAtStart.join(' / ')],
        ['docker engine', m.dockerServer],
        ['redis', `${m.redis} on 127.0.0.1 (AOF ${m.redisAof ? 'on' : 'off'})`],
        ['bullmq / ioredis / dockerode', `${m.bullmq} / ${m.ioredis} / ${m.dockerode}`],
        ['Helm memory dir filesystem', m.memoryDirFs],
        ['gate concurrency', String(concurrency)],
        ['web container', `${web.name} (ghost.service=${web.service}, 127.0.0.1:${web.port})`],
      ],
    ),
  );
}

const lat = (s: Summary): Cell[] => [s.n, s.p50, s.p95, s.p99, s.mean];

function printResults(r: Results) {
  const rt = r.roundTrip;
  console.log(heading('1. bus round trip, one at a time (add → waitUntilFinished; ms)'));
  console.log(
    formatTable(
      ['kind', 'n', 'p50', 'p95', 'p99', 'mean', 'p50 ×', 'p95 ×', 'p99 ×', 'unexpected', 'errors'],
      rt.kinds.map((k) => {
        const q = r.roundTripRatios.find((x) => x.key === k.key);
        return [k.label, ...lat(k.latencyMs), q?.p50 ?? 1, q?.p95 ?? 1, q?.p99 ?? 1, k.unexpected, k.errors];
      }),
    ),
  );
  console.log(
    `(× = Helm / raw BullMQ in this run; ${rt.bounded ? 'BOUNDED: stopped at' : 'bound'} ${rt.boundMs / 1000} s, took ${round(rt.elapsedMs / 1000, 1)} s)`,
  );
  for (const k of rt.kinds)
    if (k.firstUnexpected)
      console.log(`  first unexpected ${k.key} result: ${JSON.stringify(k.firstUnexpected).slice(0, 300)}`);

  console.log(heading('1b. where a Helm request goes (means per request, measured inside Helm; ms)'));
  console.log(
    formatTable(
      [
        'kind',
        'total',
        'bus (raw)',
        'run-log appends',
        'appends/req',
        'docker list',
        'docker inspect',
        'rest',
      ],
      r.breakdown.map((b) => [
        b.key,
        b.totalMeanMs,
        b.busBaselineMs,
        b.runLogAppendsMs,
        b.appendsPerRequest,
        b.dockerListMs,
        b.dockerInspectMs,
        b.restMs,
      ]),
    ),
  );
  console.log(
    '(rest = Helm − raw bus − run-log appends − Docker: progress updates, markFinal, the alert job, request_id Lua, validation, logging)',
  );

  const services = r.machine.cpuWatched;
  console.log(heading('1c. CPU per request (ms, user + system)'));
  console.log(
    formatTable(
      ['kind', 'this process', 'of it system', ...services],
      rt.kinds.map((k) => [
        k.label,
        k.cpuMsPerRequest['self'],
        k.cpuMsPerRequest['self_system'],
        ...services.map((name) => k.cpuMsPerRequest[name]),
      ]),
    ),
  );
  console.log(
    '(this process = Helm + bench client + raw worker; services read from /proc at 10 ms resolution, summed over the blocks)',
  );

  const tp = r.throughput;
  console.log(
    heading(
      `2. throughput (${tp.count} jobs by addBulk, concurrency ${tp.concurrency}, ${tp.rounds} rounds)`,
    ),
  );
  console.log(
    formatTable(
      [
        'kind',
        'round',
        'completed',
        'failed',
        'ms',
        'jobs/s',
        'cpu % self',
        ...services.map((name) => `${name} %`),
        'machine busy %',
        'seen by',
        'bounded',
        'unexpected',
      ],
      tp.runs.map((x) => [
        x.label,
        x.round,
        x.completed,
        x.failed,
        x.ms,
        x.jobsPerS,
        x.cpuPct['self'],
        ...services.map((name) => x.cpuPct[name]),
        x.cpuPct['machine'],
        x.seenBy,
        x.bounded ? 'yes' : 'no',
        x.unexpected,
      ]),
    ),
  );
  console.log('');
  console.log(
    formatTable(
      ['total', 'completed', 'ms', 'jobs/s', 'slowest round', 'fastest round', 'ratio'],
      tp.totals.map((t) => [
        t.label,
        t.completed,
        t.ms,
        t.jobsPerS,
        t.minJobsPerS,
        t.maxJobsPerS,
        t.key === 'baseline' ? 1 : tp.helmOverBaseline,
      ]),
    ),
  );
  console.log(
    `(cpu %: of one core, 100 = one core busy; machine busy %: all ${r.machine.cores} cores together)`,
  );
  console.log(
    `(ratio = Helm jobs/s ÷ raw BullMQ jobs/s on the totals: raw BullMQ gets through ${tp.baselineOverHelm}× as many jobs per second${tp.bounded ? '; BOUNDED' : ''})`,
  );

  const dr = r.dockerReads;
  console.log(
    heading(`3. Docker reads (N=${dr.n} each, ${dr.containersOnEngine} containers on the engine; ms)`),
  );
  console.log(
    formatTable(
      [
        'read',
        'dockerode mean',
        'p50',
        'p95',
        'docker CLI mean',
        'p50',
        'p95',
        'dockerode/CLI',
        'CLI slower by',
      ],
      dr.pairs.map((p) => [
        p.op,
        p.helm.mean,
        p.helm.p50,
        p.helm.p95,
        p.cli.mean,
        p.cli.p50,
        p.cli.p95,
        p.ratioMean,
        `${p.cliSlowerBy}×`,
      ]),
    ),
  );
  if (dr.bounded) console.log(`(BOUNDED: stopped at ${dr.boundMs / 1000} s)`);

  console.log(heading('4. memory of this process (Helm + bench client + raw worker) and the run log'));
  console.log(
    formatTable(
      ['when', 'rss MB', 'heap used MB', 'heap after GC MB', 'heap total MB', 'external MB'],
      r.memory.map((m) => [m.at, m.rssMB, m.heapUsedMB, m.heapUsedAfterGcMB, m.heapTotalMB, m.externalMB]),
    ),
  );
  const rl = r.runLog;
  const byKind = Object.entries(rl.bytesPerRequestByKind)
    .map(([k, v]) => `${k} ${v} B`)
    .join(', ');
  console.log(
    `run log (${rl.fs}): ${rl.bytes} bytes, ${rl.entryLines} entries for ${rl.helmRequests} requests = ${rl.bytesPerRequest} B/request overall; per request by kind: ${byKind}`,
  );
  console.log(
    `Helm log lines at warn or above: ${rl.helmLogLinesAtWarn}${rl.helmLogFirstMessages.length > 0 ? ` (${rl.helmLogFirstMessages.join(' | ')})` : ''}; Redis keys removed afterwards: ${JSON.stringify(r.redisKeysDeleted)}`,
  );

  console.log(
    heading(
      `5. pieces of a request, timed alone (N=${r.components.n}; payload: a ${r.components.resultJsonBytes}-byte Helm result; ms)`,
    ),
  );
  console.log(
    formatTable(
      ['piece', 'n', 'p50', 'p95', 'p99', 'mean'],
      r.components.rows.map((x) => [x.piece, ...lat(x.ms)]),
    ),
  );
  if (r.components.bounded) console.log(`(BOUNDED: stopped at ${r.components.boundMs / 1000} s)`);
  const rc = r.redisCommands;
  console.log(heading(`6. Redis commands per request (MONITOR, ${rc.n} requests of each kind, not timed)`));
  console.log(
    formatTable(
      ['kind', 'requests', 'commands/req', 'Lua redis.call/req', 'top commands per request'],
      rc.kinds.map((k) => [
        k.label,
        k.requests,
        k.commandsPerRequest,
        k.luaCallsPerRequest,
        Object.entries(k.byCommand)
          .slice(0, 6)
          .map(([name, v]) => `${name} ${v}`)
          .join(', '),
      ]),
    ),
  );
  console.log(`(connections counted: ${rc.connectionsWatched.length}${rc.bounded ? '; BOUNDED' : ''})`);
  console.log(
    heading(
      `7. crash → alert, advisor off vs on (production web killed, ${r.crashAlert.roundsPerSide} rounds each; ms)`,
    ),
  );
  console.log(crashAlertReport(r.crashAlert));
  console.log(
    heading(`8. the status page and /metrics (${r.statusPage.services} services; Helm as its own process)`),
  );
  console.log(statusPageReport(r.statusPage));
  console.log(`\nload average at end: ${r.machine.loadAvgAtEnd.join(' / ')} (${r.machine.cores} cores)`);
}

let exitCode = 0;
try {
  await main();
} catch (err) {
  exitCode = 1;
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
}
// Everything is closed by now; if a handle still holds the loop, do not hang the shell.
process.exitCode = exitCode;
setTimeout(() => {
  progress('an open handle kept the bench alive after cleanup; exiting');
  process.exit(exitCode);
}, 5000).unref();
