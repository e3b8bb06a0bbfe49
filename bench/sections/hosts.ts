// Section 9 (issue 13), runnable alone (`npm run bench -- --only=hosts`): health_check throughput with
// one host's Helm, then with two hosts' Helms (host ids bench-a and bench-b, each on its own Docker
// engine: the second is scripts/test-env.sh's /run/helm-test-docker-b.sock) on one Redis and one queue
// prefix. The same service runs on both engines, so whichever host's gate takes a request can answer
// it; each result names the host that answered. Both Helms run in this process (one event loop): the
// figure is what the bus and Redis allow two consumers, not two machines' CPU.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Dockerode from 'dockerode';
import { type BurstResult, burst, deletePrefix, makeClient } from '../lib/bus.js';
import { CpuMeter } from '../lib/cpu.js';
import { benchHelmEnv, startBenchHelm } from '../lib/helm-instance.js';
import { Budget, round, sleep } from '../lib/stats.js';
import { benchLabels, freePort, removeContainer, WEB_IMAGE } from '../lib/web-container.js';
import { removeOwnTempDir } from './components.js';

export interface HostsRound {
  hosts: 1 | 2;
  round: number;
  completed: number;
  jobsPerS: number;
  /** Executed + healthy results by the host that answered (ActionResult.host). */
  byHost: Record<string, number>;
  unexpected: number;
  bounded: boolean;
}

export interface HostsResult {
  count: number;
  rounds: HostsRound[];
  /** jobs/s over all rounds, per number of hosts. */
  totals: { hosts: 1 | 2; jobsPerS: number }[];
}

/** A web container named `service` on one engine, healthy by Docker's HEALTHCHECK (bounded). */
async function startService(
  docker: Dockerode,
  runId: string,
  service: string,
  scope: string,
): Promise<string> {
  const port = await freePort();
  const [key, value] = scope.split('=') as [string, string];
  const c = await docker.createContainer({
    name: `helm-bench-host-${randomBytes(4).toString('hex')}`,
    Image: WEB_IMAGE,
    Env: [`PORT=${port}`],
    Labels: benchLabels(runId, { 'ghost.service': service, 'ghost.environment': 'dev', [key]: value }),
    HostConfig: { NetworkMode: 'host', Init: true },
  });
  await c.start();
  const budget = new Budget(30_000);
  while ((await c.inspect()).State.Health?.Status !== 'healthy') {
    if (budget.expired) throw new Error(`${service} was not healthy after 30 s`);
    await sleep(200);
  }
  return c.id;
}

function tally(b: BurstResult): { byHost: Record<string, number>; unexpected: number } {
  const byHost: Record<string, number> = {};
  let unexpected = 0;
  for (const raw of b.returnValues) {
    const r = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
    const healthy = (r['data'] as { healthy?: boolean } | undefined)?.healthy === true;
    if (r['status'] !== 'executed' || !healthy) unexpected++;
    else byHost[String(r['host'])] = (byHost[String(r['host'])] ?? 0) + 1;
  }
  return { byHost, unexpected };
}

export async function hostsSection(opts: {
  dockerA: Dockerode;
  dockerB: Dockerode;
  dockerHostB: string;
  redisUrl: string;
  runId: string;
  count: number;
  rounds: number;
  boundMs: number;
  cleanup: Array<() => Promise<unknown>>;
  progress: (msg: string) => void;
}): Promise<HostsResult> {
  const section = new Budget(opts.boundMs);
  const prefix = `${opts.runId}-hosts`;
  const scope = `helm.bench-scope=${opts.runId}`;
  const service = `bench-hosts-${randomBytes(3).toString('hex')}`;
  const memA = await mkdtemp(path.join(os.tmpdir(), 'helm-bench-a-'));
  const memB = await mkdtemp(path.join(os.tmpdir(), 'helm-bench-b-'));
  opts.cleanup.push(
    () => removeOwnTempDir(memA),
    () => removeOwnTempDir(memB),
  );
  const env = (memoryDir: string, host: string) => ({
    ...benchHelmEnv({ redisUrl: opts.redisUrl, prefix, memoryDir, scope, instance: `${opts.runId}-${host}` }),
    HELM_HOST_ID: host,
  });
  for (const docker of [opts.dockerA, opts.dockerB]) {
    const id = await startService(docker, opts.runId, service, scope);
    opts.cleanup.push(() => removeContainer(docker, id));
  }
  const a = await startBenchHelm(env(memA, 'bench-a'));
  opts.cleanup.push(() => a.close());
  // One internal-job key on the bus: host B holds a copy of A's (README, "Several Helm processes").
  await copyFile(path.join(memA, 'helm.key'), path.join(memB, 'helm.key'));
  const client = await makeClient(opts.redisUrl, prefix);
  opts.cleanup.push(async () => {
    await client.close();
    await deletePrefix(client.redis, prefix).catch(() => 0);
  });
  const cpu = new CpuMeter({});
  const data = () => ({ action: 'health_check', target: service, environment: 'dev', reason: 'bench hosts' });
  const rounds: HostsRound[] = [];
  const run = async (hosts: 1 | 2) => {
    for (let r = 1; r <= opts.rounds && !section.expired; r++) {
      const b = await burst(client, opts.count, data, new Budget(section.left() / 2), cpu);
      const t = tally(b);
      rounds.push({
        hosts,
        round: r,
        completed: b.completed,
        jobsPerS: round(b.jobsPerS, 1),
        ...t,
        bounded: b.bounded,
      });
      opts.progress(
        `hosts: ${hosts} host(s), round ${r}: ${round(b.jobsPerS, 1)} jobs/s ${JSON.stringify(t.byHost)}`,
      );
    }
  };
  await run(1);
  const b = await startBenchHelm({ ...env(memB, 'bench-b'), DOCKER_HOST: opts.dockerHostB });
  opts.cleanup.push(() => b.close());
  await run(2);
  const totals = ([1, 2] as const).map((hosts) => {
    const rs = rounds.filter((r) => r.hosts === hosts);
    const done = rs.reduce((n, r) => n + r.completed, 0);
    const ms = rs.reduce((n, r) => n + (r.completed / Math.max(r.jobsPerS, 1e-9)) * 1000, 0);
    return { hosts, jobsPerS: ms > 0 ? round((done / ms) * 1000, 1) : 0 };
  });
  return { count: opts.count, rounds, totals };
}

export function hostsReport(r: HostsResult): string {
  const lines = r.rounds.map(
    (x) =>
      `${x.hosts} host(s) round ${x.round}: ${x.jobsPerS} jobs/s (${x.completed}/${r.count}; by host ${JSON.stringify(x.byHost)}` +
      `${x.unexpected > 0 ? `; ${x.unexpected} unexpected` : ''}${x.bounded ? '; cut by the time bound' : ''})`,
  );
  const [one, two] = r.totals;
  return [
    ...lines,
    `total: one host ${one!.jobsPerS} jobs/s, two hosts ${two!.jobsPerS} jobs/s (two ÷ one: ${round(two!.jobsPerS / Math.max(one!.jobsPerS, 1e-9), 2)})`,
  ].join('\n');
}
