// Section 8: what the status page and /metrics cost (issue 12). One Helm as a process of its own (the
// owner's entry, src/main.ts, all workers, its HTTP server on a free loopback port), so its CPU is read
// from /proc apart from the bench's, with 50 managed containers (busybox, host network, sleeping) in
// its scope, so its monitor watches 50 services. (a) Helm's CPU seconds per minute with the page
// closed (nothing asks) and open (the page's own refresh: GET /status.json every STATUS_PAGE_POLL_MS,
// the next one once the last answered, after loading the page's three files), in alternating windows
// (closed, open, closed, open) so drift hits both alike; reported as open ÷ closed. Polled over HTTP,
// not in Chromium: the browser's own CPU is not Helm's, and what Helm does per refresh is the same.
// (b) /metrics scrape time beside the /healthz round trip on the same server, interleaved in blocks.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { Redis } from 'ioredis';
import { STATUS_PAGE_POLL_MS } from '../../src/http/status-page-assets.js';
import { deletePrefix } from '../lib/bus.js';
import { clockTicks, readTicks } from '../lib/cpu.js';
import { Budget, ratio, round, type Summary, sleep, summarize } from '../lib/stats.js';
import { formatTable } from '../lib/table.js';
import { benchLabels, freePort, removeContainer, WEB_IMAGE } from '../lib/web-container.js';
import { removeOwnTempDir } from './components.js';

export interface StatusPageInput {
  docker: Dockerode;
  redisUrl: string;
  runId: string;
  services: number;
  /** Length of each CPU window; two closed and two open. */
  windowMs: number;
  /** /metrics scrapes and /healthz round trips, each. */
  scrapes: number;
  blockSize: number;
  boundMs: number;
  cleanup: Array<() => Promise<unknown>>;
  progress: (msg: string) => void;
}

export interface StatusPageResult {
  services: number;
  pollMs: number;
  driver: string;
  windows: Array<{ page: 'closed' | 'open'; wallS: number; helmCpuS: number; polls: number }>;
  helmCpuSPerMin: { closed: number; open: number };
  openOverClosed: number;
  statusJsonMs: Summary;
  statusJsonBytes: number;
  metricsMs: Summary;
  healthzMs: Summary;
  metricsOverHealthz: { p50: number; p99: number };
  metricsBytes: number;
  metricsSamples: number;
  bounded: boolean;
}

const here = path.dirname(fileURLToPath(import.meta.url));

export async function statusPageSection(x: StatusPageInput): Promise<StatusPageResult> {
  const budget = new Budget(x.boundMs);
  const prefix = `${x.runId}-page`;
  const memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-bench-page-'));
  x.cleanup.push(() => removeOwnTempDir(memoryDir));
  const scope = `helm.bench-scope=${prefix}`;
  x.cleanup.push(async () => {
    const admin = new Redis(x.redisUrl, { maxRetriesPerRequest: null });
    await deletePrefix(admin, prefix);
    admin.disconnect();
  });

  x.progress(`8. starting ${x.services} busybox containers…`);
  const ids = await startSleepers(x, prefix);
  x.cleanup.push(async () => {
    for (const id of ids) await removeContainer(x.docker, id);
  });

  const port = await freePort();
  const helm = spawnHelm({
    REDIS_URL: x.redisUrl,
    HELM_QUEUE_PREFIX: prefix,
    HELM_MEMORY_DIR: memoryDir,
    HELM_SCOPE_LABELS: scope,
    HELM_INSTANCE: prefix,
    HELM_HTTP_ADDR: `127.0.0.1:${port}`,
    LOG_LEVEL: 'warn',
  });
  x.cleanup.push(() => helm.stop());
  const base = `http://127.0.0.1:${port}`;
  x.progress('8. Helm (a process of its own) starting; waiting for it to see every service…');
  await waitUntil(budget, 'Helm ready on /readyz', async () => (await fetch(`${base}/readyz`)).ok).catch(
    (err: Error) => {
      throw new Error(`${err.message}; Helm said: ${helm.stderr()}`);
    },
  );
  await waitUntil(budget, `the page to list ${x.services} services`, async () => {
    const data = (await (await fetch(`${base}/status.json`)).json()) as { services: unknown[] };
    return data.services.length >= x.services;
  });
  await sleep(2000);

  const windows: StatusPageResult['windows'] = [];
  const pollTimes: number[] = [];
  let statusJsonBytes = 0;
  for (const page of ['closed', 'open', 'closed', 'open'] as const) {
    if (budget.expired) break;
    x.progress(`8. page ${page} for ${x.windowMs / 1000} s…`);
    const t0 = performance.now();
    const c0 = helm.cpuMs();
    let polls = 0;
    if (page === 'closed') await sleep(x.windowMs);
    else {
      for (const file of ['/', '/status-page.js', '/status-page.css'])
        await (await fetch(base + file)).text();
      while (performance.now() - t0 < x.windowMs) {
        const s = performance.now();
        statusJsonBytes = (await (await fetch(`${base}/status.json`)).text()).length;
        pollTimes.push(performance.now() - s);
        polls++;
        await sleep(Math.max(0, STATUS_PAGE_POLL_MS - (performance.now() - s)));
      }
    }
    const wallS = (performance.now() - t0) / 1000;
    windows.push({ page, wallS: round(wallS, 1), helmCpuS: round((helm.cpuMs() - c0) / 1000, 2), polls });
  }

  x.progress(`8. /metrics vs /healthz, ${x.scrapes} each…`);
  const scrape = await scrapeTimes(base, x, budget);
  await helm.stop();

  const perMin = (page: 'closed' | 'open') => {
    const w = windows.filter((v) => v.page === page);
    const s = w.reduce((a, v) => a + v.wallS, 0);
    return s > 0 ? round((w.reduce((a, v) => a + v.helmCpuS, 0) / s) * 60, 2) : Number.NaN;
  };
  const closed = perMin('closed');
  const open = perMin('open');
  const metricsMs = summarize(scrape.metrics);
  const healthzMs = summarize(scrape.healthz);
  return {
    services: x.services,
    pollMs: STATUS_PAGE_POLL_MS,
    driver: 'HTTP polling of /status.json at the page refresh interval (no browser)',
    windows,
    helmCpuSPerMin: { closed, open },
    openOverClosed: ratio(open, closed),
    statusJsonMs: summarize(pollTimes),
    statusJsonBytes,
    metricsMs,
    healthzMs,
    metricsOverHealthz: {
      p50: ratio(metricsMs.p50, healthzMs.p50),
      p99: ratio(metricsMs.p99, healthzMs.p99),
    },
    metricsBytes: scrape.bytes,
    metricsSamples: scrape.samples,
    bounded: budget.expired,
  };
}

export function statusPageReport(r: StatusPageResult): string {
  const cpu = formatTable(
    ['window', 'page', 'wall s', 'Helm CPU s', 'polls'],
    r.windows.map((w, i) => [i + 1, w.page, w.wallS, w.helmCpuS, w.polls]),
  );
  const times = formatTable(
    ['request', 'n', 'p50', 'p95', 'p99', 'mean'],
    [
      [
        '/status.json (open page)',
        r.statusJsonMs.n,
        r.statusJsonMs.p50,
        r.statusJsonMs.p95,
        r.statusJsonMs.p99,
        r.statusJsonMs.mean,
      ],
      ['/metrics', r.metricsMs.n, r.metricsMs.p50, r.metricsMs.p95, r.metricsMs.p99, r.metricsMs.mean],
      [
        '/healthz (baseline)',
        r.healthzMs.n,
        r.healthzMs.p50,
        r.healthzMs.p95,
        r.healthzMs.p99,
        r.healthzMs.mean,
      ],
    ],
  );
  return [
    cpu,
    `Helm CPU per minute: page closed ${r.helmCpuSPerMin.closed} s, open ${r.helmCpuSPerMin.open} s: open ÷ closed ${r.openOverClosed} (${r.driver}, every ${r.pollMs} ms)`,
    '',
    times,
    `/metrics ÷ /healthz: p50 ${r.metricsOverHealthz.p50}, p99 ${r.metricsOverHealthz.p99}; /metrics ${r.metricsBytes} bytes, ${r.metricsSamples} samples; /status.json ${r.statusJsonBytes} bytes; ${r.services} services${r.bounded ? '; BOUNDED' : ''}`,
  ].join('\n');
}

/** Busybox containers that only sleep: host network, no health check, each its own service. */
async function startSleepers(x: StatusPageInput, prefix: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < x.services; i++) {
    const c = await x.docker.createContainer({
      name: `${prefix}-svc-${i}`,
      Image: WEB_IMAGE,
      Cmd: ['sleep', '3600'],
      Labels: benchLabels(x.runId, {
        'helm.bench-scope': prefix,
        'ghost.service': `${prefix}-svc-${i}`,
        'ghost.environment': 'dev',
      }),
      Healthcheck: { Test: ['NONE'] },
      HostConfig: { NetworkMode: 'host', Init: true },
    });
    ids.push(c.id);
    await c.start();
  }
  return ids;
}

async function scrapeTimes(base: string, x: StatusPageInput, budget: Budget) {
  const metrics: number[] = [];
  const healthz: number[] = [];
  let bytes = 0;
  let samples = 0;
  const time = async (url: string) => {
    const s = performance.now();
    const res = await fetch(url);
    const text = await res.text();
    if (!res.ok) throw new Error(`${url} answered ${res.status}`);
    return { ms: performance.now() - s, text };
  };
  for (let done = 0; done < x.scrapes && !budget.expired; done += x.blockSize) {
    for (let i = 0; i < x.blockSize; i++) {
      const m = await time(`${base}/metrics`);
      metrics.push(m.ms);
      bytes = m.text.length;
      samples = m.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    }
    for (let i = 0; i < x.blockSize; i++) healthz.push((await time(`${base}/healthz`)).ms);
  }
  return { metrics, healthz, bytes, samples };
}

async function waitUntil(budget: Budget, what: string, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check().catch(() => false)) return;
    if (budget.expired) throw new Error(`section 8: gave up waiting for ${what}`);
    await sleep(250);
  }
}

/** Helm the way the owner runs it (src/main.ts), its CPU read from /proc. */
function spawnHelm(env: Record<string, string>): {
  cpuMs(): number;
  stderr(): string;
  stop(): Promise<void>;
} {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(here, '..', '..', 'src', 'main.ts')],
    {
      env: {
        PATH: process.env['PATH'] ?? '',
        HELM_ADVISOR: 'off',
        ...(process.env['DOCKER_HOST'] ? { DOCKER_HOST: process.env['DOCKER_HOST'] } : {}),
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + String(d)).slice(-2000);
  });
  const exited = once(child, 'exit');
  const tickMs = 1000 / clockTicks();
  return {
    cpuMs: () => (readTicks(child.pid!) ?? Number.NaN) * tickMs,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
