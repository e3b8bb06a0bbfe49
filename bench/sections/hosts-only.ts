// `npm run bench -- --only=hosts`: section 9 alone, cleaned up like a whole run, its figures printed
// and written to bench/results/hosts.json.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import { dockerOptions } from '../../src/docker/dockerode-connection.js';
import { cleanupOnExit } from '../lib/cleanup.js';
import { round } from '../lib/stats.js';
import { heading } from '../lib/table.js';
import { sweepStaleBenchContainers } from '../lib/web-container.js';
import { hostsReport, hostsSection } from './hosts.js';

const ENGINE_B = process.env['HELM_TEST_DOCKER_B_SOCK'] ?? '/run/helm-test-docker-b.sock';

export async function runHostsOnly(
  plan: { count: number; rounds: number; boundMs: number },
  redisUrl: string,
  progress: (msg: string) => void,
): Promise<void> {
  const startedAt = new Date();
  const runId = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const dockerA = new Dockerode(dockerOptions(process.env['DOCKER_HOST']));
  const dockerB = new Dockerode({ socketPath: ENGINE_B });
  await dockerB.ping().catch((err: Error) => {
    throw new Error(
      `the second engine at ${ENGINE_B} does not answer (${err.message}): run scripts/test-env.sh`,
    );
  });
  const { steps: cleanup, run: runCleanup } = cleanupOnExit(progress);
  try {
    for (const docker of [dockerA, dockerB]) await sweepStaleBenchContainers(docker);
    const result = await hostsSection({
      dockerA,
      dockerB,
      dockerHostB: `unix://${ENGINE_B}`,
      redisUrl,
      runId,
      ...plan,
      cleanup,
      progress,
    });
    await runCleanup();
    console.log(
      heading(`9. health_check throughput, one and two hosts on one Redis (${plan.count} per burst)`),
    );
    console.log(hostsReport(result));
    console.log(
      `\nload average at end: ${os
        .loadavg()
        .map((v) => round(v, 2))
        .join(' / ')}`,
    );
    const outDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'results');
    await mkdir(outDir, { recursive: true });
    const out = path.join(outDir, 'hosts.json');
    await writeFile(
      out,
      `${JSON.stringify({ startedAt: startedAt.toISOString(), plan, hosts: result }, null, 2)}\n`,
    );
    console.log(`wrote ${path.relative(process.cwd(), out)}`);
  } finally {
    await runCleanup();
  }
}
