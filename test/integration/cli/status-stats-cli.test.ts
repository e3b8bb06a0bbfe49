// `helm status [service]` and `helm stats [service]` as the owner runs them (child processes) against
// a running Helm: --json is one JSON document, a table otherwise, a failed read one line on stderr
// and a non-zero exit. A production restart parked for Warden shows as in flight.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionResultSchema, StatsDataSchema, StatusDataSchema } from '../../../src/contracts/index.js';
import { removeTestContainers, startWebService } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';

const run = promisify(execFile);

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(env: Record<string, string>, ...args: string[]): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      timeout: 45_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

let h: TestHelm;
let bus: BusClient;
let keyDir: string;
let service: string;

beforeAll(async () => {
  keyDir = await mkdtemp(path.join(os.tmpdir(), 'helm-cli-status-'));
  expect((await cli({}, 'keys', 'generate', '--out', keyDir)).code).toBe(0);
  h = await startTestHelm({ HELM_WARDEN_PUBLIC_KEY_FILE: path.join(keyDir, 'warden.pub.pem') });
  bus = await busClient(h.prefix);
  service = uniqueName('cli-status');
  await startWebService({
    labels: { 'ghost.service': service, 'ghost.environment': 'production', ...h.scopeLabel },
    healthcheck: true,
  });
}, 90_000);
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await removeTestContainers();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

describe('helm status', () => {
  it('--json: one JSON document, the final result, with a parked restart in flight', async () => {
    await bus.send({ action: 'restart', target: service, environment: 'production', reason: 'parks' });
    const parked = await waitFor(async () => {
      const r = await cli(h.env, 'status', service, '--json');
      expect(r.code).toBe(0);
      const result = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(ActionResultSchema.safeParse(result).error).toBeUndefined();
      const data = StatusDataSchema.parse(result['data']);
      return data.containers[0]!.in_flight.approvals.length > 0 ? data : null;
    }, 'the restart parked for Warden');
    expect(parked.containers[0]).toMatchObject({ service, running: true, environment: 'production' });
    expect(parked.containers[0]!.in_flight.approvals[0]).toMatchObject({ action: 'restart' });
  });

  it('a table for people, everything in scope without a service', async () => {
    const r = await cli(h.env, 'status');
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const [header, ...rows] = r.stdout.trim().split('\n');
    expect(header).toMatch(/^SERVICE\s+CONTAINER\s+STATE\s+HEALTH\s+ENV/);
    expect(
      rows.some((l) => l.startsWith(service) && l.includes('running') && l.includes('awaits Warden')),
    ).toBe(true);
  });

  it('an unknown service: one line on stderr, exit 1; with --json the result too', async () => {
    const target = uniqueName('nothing');
    const r = await cli(h.env, 'status', target);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^helm status: unknown_target: no container is labelled ghost.service=/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const j = await cli(h.env, 'status', target, '--json');
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ status: 'failed', error: { code: 'unknown_target' } });
  });
});

describe('helm stats', () => {
  it('--json parsed, and a table with the host', async () => {
    const j = await cli(h.env, 'stats', service, '--json');
    expect(j.code).toBe(0);
    const data = StatsDataSchema.parse((JSON.parse(j.stdout) as { data: unknown }).data);
    expect(data.containers).toHaveLength(1);
    expect(data.containers[0]!.memory_bytes).toBeGreaterThan(0);

    const t = await cli(h.env, 'stats', service);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/^SERVICE\s+CONTAINER\s+CPU %\s+MEM USAGE \/ LIMIT\s+NET I\/O\s+BLOCK I\/O\n/);
    expect(t.stdout).toMatch(/\nhost: CPU [0-9.]+ %, memory /);
  });

  it('with Redis down: one line, non-zero', async () => {
    const r = await cli({ ...h.env, REDIS_URL: 'redis://127.0.0.1:1' }, 'stats', '--timeout', '2');
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^helm: no final result within 2 s: Redis at/);
  });
});
