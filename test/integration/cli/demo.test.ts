// `helm demo --yes --json` run as a newcomer runs it (a child process, stdout piped) against the test
// Redis and the real Docker engine: every step of the walk-through ends as the demo says, and
// afterwards nothing of it is left: no container or image with its label or tags, no Redis key under
// its prefix, no temporary folder. Refusals (Redis or Docker unreachable) are one line and exit 1.
import { execFile, spawn } from 'node:child_process';
import { access } from 'node:fs/promises';
import os from 'node:os';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { testDocker } from '../../helpers/docker.js';
import { TEST_REDIS_URL } from '../../helpers/helm.js';

const run = promisify(execFile);

interface DemoRun {
  code: number;
  doc: Record<string, unknown>;
  stderr: string;
}

async function demo(env: Record<string, string>): Promise<DemoRun> {
  let out: { code: number; stdout: string; stderr: string };
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--yes', '--json'], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      timeout: 150_000,
    });
    out = { code: 0, ...r };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    out = { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
  expect(out.stdout.trimEnd().split('\n'), out.stderr).toHaveLength(1);
  return { code: out.code, doc: JSON.parse(out.stdout) as Record<string, unknown>, stderr: out.stderr };
}

interface Step {
  step: string;
  ok: boolean;
  summary: string;
  details: Record<string, unknown>;
}

/** No container or image with the run's label or tags, no Redis key under its prefix, no temp dir. */
async function expectNothingLeft(demoRun: string, imageIds: string[]): Promise<void> {
  const docker = testDocker();
  const label = { label: [`helm.demo=${demoRun}`] };
  expect(await docker.listContainers({ all: true, filters: label })).toEqual([]);
  expect(await docker.listImages({ all: true, filters: label })).toEqual([]);
  const tags = (await docker.listImages({ all: true })).flatMap((i) => i.RepoTags ?? []);
  expect(tags.filter((t) => t.includes(demoRun))).toEqual([]);
  for (const id of imageIds) {
    await expect(docker.getImage(id).inspect()).rejects.toMatchObject({ statusCode: 404 });
  }
  const redis = new Redis(TEST_REDIS_URL);
  try {
    expect(await redis.keys(`helm-demo-${demoRun}:*`)).toEqual([]);
  } finally {
    redis.disconnect();
  }
  expect((await readdir(os.tmpdir())).filter((f) => f.startsWith(`helm-demo-${demoRun}`))).toEqual([]);
}

describe('helm demo --yes --json', () => {
  it('walks through every step on real containers and leaves nothing behind', async () => {
    const r = await demo({ REDIS_URL: TEST_REDIS_URL });
    const steps = r.doc['steps'] as Step[];
    const byName = new Map(steps.map((s) => [s.step, s]));
    const failed = steps.filter((s) => !s.ok).map((s) => s.summary);
    expect(failed, r.stderr).toEqual([]);
    expect(r).toMatchObject({ code: 0, doc: { ok: true } });
    expect(steps.map((s) => s.step)).toEqual([
      'build_images',
      'create_services',
      'start_helm',
      'staging_deploy',
      'production_parked',
      'production_approved',
      'production_executed',
      'bad_release_rolled_back',
      'run_log_verified',
      'status_page',
    ]);
    const images = byName.get('build_images')!.details['images'] as { v1: string; v2: string; bad: string };

    // Staging at once; production parked for Warden with its plan, then executed after the approval.
    expect(byName.get('staging_deploy')!.details).toMatchObject({
      status: 'executed',
      docker: [expect.objectContaining({ image_id: images.v2 })],
    });
    const parked = byName.get('production_parked')!.details;
    expect(parked).toMatchObject({
      approval_id: expect.any(String),
      plan: { action: 'deploy', environment: 'production', desired: { image_id: images.v2 } },
    });
    expect(byName.get('production_approved')!.details).toMatchObject({
      decision: { approval_id: parked['approval_id'], decision: 'approved' },
    });
    expect(byName.get('production_executed')!.details).toMatchObject({
      status: 'executed',
      docker: [expect.objectContaining({ image_id: images.v2, health: 'healthy' })],
    });

    // The bad release: failed, rolled back (Docker shows release 2 again), its alert on sentinel.alerts.
    expect(byName.get('bad_release_rolled_back')!.details).toMatchObject({
      status: 'failed',
      error: { code: 'rolled_back' },
      alerts: expect.arrayContaining([expect.objectContaining({ kind: 'rolled_back' })]),
      docker: [expect.objectContaining({ image_id: images.v2 })],
    });
    expect(byName.get('run_log_verified')!.details).toMatchObject({ verified: true, problems: [] });
    expect((byName.get('run_log_verified')!.details['entry_count'] as number) > 0).toBe(true);
    expect(byName.get('status_page')!.details).toMatchObject({
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/),
      http_status: 200,
    });

    // Nothing left: containers, images (Helm's release tags too), Redis keys, the temporary folder.
    const demoRun = r.doc['run'] as string;
    const cleanup = r.doc['cleanup'] as { temp_dir: string; problems: string[]; containers: number };
    expect(cleanup.problems).toEqual([]);
    expect(cleanup.containers).toBeGreaterThanOrEqual(2);
    await expectNothingLeft(demoRun, Object.values(images));
    await expect(access(cleanup.temp_dir)).rejects.toThrow();
  }, 180_000);

  it('refuses with one line and exit 1 when Redis or Docker does not answer', async () => {
    // Both at once: each is a child process that mostly waits (tsx's start, Redis's retries).
    const [noRedis, noDocker] = await Promise.all([
      demo({ REDIS_URL: 'redis://127.0.0.1:1' }),
      demo({ REDIS_URL: TEST_REDIS_URL, DOCKER_HOST: 'unix:///nonexistent/docker.sock' }),
    ]);
    expect(noRedis.code).toBe(1);
    expect(noRedis.doc).toMatchObject({ error: { code: 'redis_unavailable' } });
    expect(noRedis.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^helm: Redis at .* does not answer/),
    ]);
    expect(noDocker.code).toBe(1);
    expect(noDocker.doc).toMatchObject({ error: { code: 'docker_unavailable' } });
    expect(noDocker.stderr.trimEnd().split('\n')).toEqual([
      expect.stringMatching(/^helm: Docker at .* does not answer/),
    ]);
  }, 60_000);

  it('cleans up on Ctrl-C in the middle of the walk-through (exit 130)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--yes'], {
      env: { PATH: process.env['PATH'] ?? '', REDIS_URL: TEST_REDIS_URL },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    // Interrupted once the demo's containers, images, Helm and Redis keys all exist.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "start helm" step: ${stdout}`)), 90_000);
      child.stdout.on('data', (chunk) => {
        stdout += String(chunk);
        if (/^ok +start helm/m.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const demoRun = /\(run ([0-9a-f]+)\)/.exec(stdout)?.[1];
    expect(demoRun).toBeDefined();
    const docker = testDocker();
    expect(
      await docker.listContainers({ all: true, filters: { label: [`helm.demo=${demoRun}`] } }),
    ).not.toEqual([]);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stdout).toMatch(/SIGINT: cleaning up/);
    await expectNothingLeft(demoRun!, []);
  }, 120_000);
});
