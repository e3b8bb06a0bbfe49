// Every verb of the owner's CLI, run as the owner runs it (a child process), ends on its own as soon
// as it has its answer: 0 for success or an executed result, non-zero for a failed one. A verb that
// leaves a Redis connection, a BullMQ queue or a timer open never exits; here it is killed at a
// generous bound and the test fails.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';

/** Far longer than any verb needs; only a verb that never ends reaches it. */
const EXIT_BOUND_MS = 45_000;

interface CliRun {
  /** false: still running at the bound, killed. */
  exited: boolean;
  code: number | null;
  stdout: string;
  stderr: string;
}

interface StartedCli {
  child: ChildProcess;
  ended: Promise<CliRun>;
}

function startCli(env: Record<string, string>, args: string[]): StartedCli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr?.on('data', (d) => {
    stderr += String(d);
  });
  let exited = true;
  const timer = setTimeout(() => {
    exited = false;
    child.kill('SIGKILL');
  }, EXIT_BOUND_MS);
  const ended = (once(child, 'exit') as Promise<[number | null]>).then(([code]) => {
    clearTimeout(timer);
    return { exited, code, stdout, stderr };
  });
  return { child, ended };
}

const cli = (env: Record<string, string>, ...args: string[]) => startCli(env, args).ended;

let h: TestHelm;
let bus: BusClient;
let keyDir: string;
let env: Record<string, string>;

beforeAll(async () => {
  keyDir = await mkdtemp(path.join(os.tmpdir(), 'helm-cli-exits-'));
  const generated = await cli({}, 'keys', 'generate', '--out', keyDir);
  expect(generated).toMatchObject({ exited: true, code: 0 });
  h = await startTestHelm({
    HELM_WARDEN_PUBLIC_KEY_FILE: path.join(keyDir, 'warden.pub.pem'),
    HELM_STABILITY_WINDOW_S: '1',
    HELM_HEALTH_TIMEOUT_S: '20',
  });
  bus = await busClient(h.prefix);
  env = h.env;
});
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await removeTestContainers();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

/** A production restart parked by the real gate, requested by `helm request` (still waiting). */
async function parkedRestartByCli() {
  const name = uniqueName('cli-exits');
  await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'production' } });
  const request = startCli(env, [
    'request',
    'restart',
    name,
    '-e',
    'production',
    '-r',
    'cli exit test',
    '--params',
    '{"timeout_s":5}',
  ]);
  const parked = await waitFor(
    async () => {
      const listed = await cli(env, 'pending');
      expect(listed).toMatchObject({ exited: true, code: 0 });
      return listed.stdout.includes(name) ? listed.stdout : null;
    },
    `the restart of ${name} parked`,
    30_000,
  );
  const approvalId = parked
    .split('\n')
    .find((l) => l.includes(name))
    ?.split(/\s+/)[0];
  expect(approvalId).toMatch(/^[0-9a-f-]{36}$/);
  return { request, approvalId: approvalId as string };
}

describe('every CLI verb exits as soon as it has its answer', () => {
  it('helm request: 0 for an executed result, 1 for a failed one', async () => {
    const name = uniqueName('cli-exits');
    await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'dev' } });
    const executed = await cli(env, 'request', 'health_check', name, '-e', 'dev', '-r', 'cli exit test');
    expect(executed).toMatchObject({ exited: true, code: 0 });
    expect(JSON.parse(executed.stdout)).toMatchObject({ status: 'executed' });

    const failed = await cli(env, 'request', 'health_check', uniqueName('nobody'), '-e', 'dev', '-r', 'x');
    expect(failed).toMatchObject({ exited: true, code: 1 });
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: 'failed', error: { code: 'unknown_target' } });
  });

  it('helm request with no answer in time: it says so and exits non-zero', async () => {
    // Nobody serves this bus: the request waits its --timeout, then ends.
    const silent = { ...env, HELM_QUEUE_PREFIX: `${h.prefix}-nobody` };
    const r = await cli(silent, 'request', 'health_check', 'web', '-e', 'dev', '-r', 'x', '--timeout', '2');
    expect(r).toMatchObject({ exited: true });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/no final result within 2 s/);
  });

  it('helm request with Redis down: it says so and exits non-zero', async () => {
    const down = { ...env, REDIS_URL: 'redis://127.0.0.1:1' };
    const r = await cli(down, 'request', 'health_check', 'web', '-e', 'dev', '-r', 'x', '--timeout', '3');
    expect(r).toMatchObject({ exited: true });
    expect(r.code).not.toBe(0);
  });

  it('helm pending and helm approve: both exit 0, and the parked request then exits 0 (executed)', async () => {
    const { request, approvalId } = await parkedRestartByCli();
    const key = path.join(keyDir, 'warden.key.pem');
    expect(await cli(env, 'approve', approvalId, '--key', key)).toMatchObject({ exited: true, code: 0 });
    const result = await request.ended;
    expect(result).toMatchObject({ exited: true, code: 0 });
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'executed', approval_id: approvalId });
  });

  it('helm deny and helm cancel: exit 0, and the requests they end exit 1 (failed)', async () => {
    const key = path.join(keyDir, 'warden.key.pem');
    const denied = await parkedRestartByCli();
    const deny = await cli(env, 'deny', denied.approvalId, '--key', key, '--reason', 'not now');
    expect(deny).toMatchObject({ exited: true, code: 0 });
    const deniedResult = await denied.request.ended;
    expect(deniedResult).toMatchObject({ exited: true, code: 1 });
    expect(JSON.parse(deniedResult.stdout)).toMatchObject({ status: 'failed', error: { code: 'denied' } });

    const cancelled = await parkedRestartByCli();
    expect(await cli(env, 'cancel', cancelled.approvalId)).toMatchObject({ exited: true, code: 0 });
    expect(await cancelled.request.ended).toMatchObject({ exited: true, code: 1 });
    // Nothing left to decide or cancel: both say so and exit 1.
    expect(await cli(env, 'cancel', cancelled.approvalId)).toMatchObject({ exited: true, code: 1 });
    expect(await cli(env, 'approve', cancelled.approvalId, '--key', key)).toMatchObject({
      exited: true,
      code: 1,
    });
  });

  it('helm doctor, log, log --verify, releases: each exits with its verdict', async () => {
    const doctor = await cli(env, 'doctor');
    expect(doctor.exited).toBe(true);
    expect(doctor.code).toBe(/^fail/m.test(doctor.stdout) ? 1 : 0);
    expect(doctor.stdout).toMatch(/heartbeat: Helm .* is alive/);

    expect(await cli(env, 'log')).toMatchObject({ exited: true, code: 0 });
    const verified = await cli(env, 'log', '--verify');
    expect(verified).toMatchObject({ exited: true, code: 0 });
    expect(verified.stdout).toMatch(/run log verified/);

    expect(await cli(env, 'releases', uniqueName('never-deployed'))).toMatchObject({ exited: true, code: 1 });
  });
});
