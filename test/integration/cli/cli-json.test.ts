// Every verb with --json, run as the owner's scripts run it (a child process, stdout piped) against a
// running Helm: stdout is exactly one JSON document with the verb's keys, also when it fails (then
// `{ error: { code, message } }`), with one `helm: …` line on stderr and a non-zero exit.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionResultSchema, PlainRequestAnswerSchema } from '../../../src/contracts/index.js';
import { removeTestContainers, startWebService } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { startTestHelm, type TestHelm } from '../../helpers/helm.js';

const run = promisify(execFile);

interface JsonRun {
  code: number;
  doc: Record<string, unknown>;
  stderr: string;
}

/** Runs a verb with --json; its stdout must be one JSON document on one line. */
async function cliJson(env: Record<string, string>, ...args: string[]): Promise<JsonRun> {
  let out: { code: number; stdout: string; stderr: string };
  try {
    const r = await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--json'], {
      env: { PATH: process.env['PATH'] ?? '', ...env },
      timeout: 45_000,
    });
    out = { code: 0, ...r };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    out = { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
  expect(out.stdout.trimEnd().split('\n'), `${args.join(' ')}: ${out.stderr}`).toHaveLength(1);
  return { code: out.code, doc: JSON.parse(out.stdout) as Record<string, unknown>, stderr: out.stderr };
}

/** A failure: exit non-zero, the error document with `code`, one line on stderr. */
function expectFailure(r: JsonRun, code: string) {
  expect(r.code).not.toBe(0);
  expect(r.doc).toMatchObject({ error: { code, message: expect.any(String) } });
  expect(r.stderr.trimEnd().split('\n').at(-1)).toMatch(/^(helm: |error: )/);
}

let h: TestHelm;
let keyDir: string;
let key: string;
let down: Record<string, string>;

beforeAll(async () => {
  keyDir = await mkdtemp(path.join(os.tmpdir(), 'helm-cli-json-'));
  const keys = await cliJson({}, 'keys', 'generate', '--out', keyDir);
  expect(keys).toMatchObject({ code: 0, doc: { key_id: expect.any(String) } });
  expect(Object.keys(keys.doc).sort()).toEqual(['key_id', 'private_key_path', 'public_key_path']);
  key = keys.doc['private_key_path'] as string;
  h = await startTestHelm({
    HELM_WARDEN_PUBLIC_KEY_FILE: keys.doc['public_key_path'] as string,
    HELM_STABILITY_WINDOW_S: '1',
  });
  down = { ...h.env, REDIS_URL: 'redis://127.0.0.1:1' };
}, 90_000);
afterAll(async () => {
  await h?.close();
  await removeTestContainers();
  if (keyDir) await rm(keyDir, { recursive: true, force: true });
});

/** A production restart parked for Warden by `helm request --json`, found with `helm pending --json`. */
async function parkedRestart() {
  const name = uniqueName('cli-json');
  await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'production' } });
  const request = cliJson(h.env, 'request', 'restart', name, '-e', 'production', '-r', 'json test');
  const approvalId = await waitFor(
    async () => {
      const listed = await cliJson(h.env, 'pending');
      expect(listed.code).toBe(0);
      const records = listed.doc['pending'] as {
        approval_id: string;
        approval_request: { plan: { service: string } };
      }[];
      return records.find((r) => r.approval_request.plan.service === name)?.approval_id ?? null;
    },
    `the restart of ${name} parked`,
    30_000,
  );
  return { request, approvalId };
}

describe('every verb with --json prints one JSON document', () => {
  it('keys generate: refuses to overwrite, as key_file', async () => {
    expectFailure(await cliJson({}, 'keys', 'generate', '--out', keyDir), 'key_file');
  });

  it('doctor: { ok, checks }; with Redis down a failing check and exit 1', async () => {
    const ok = await cliJson(h.env, 'doctor');
    expect(Object.keys(ok.doc).sort()).toEqual(['checks', 'ok']);
    expect(ok.code).toBe(ok.doc['ok'] ? 0 : 1);
    const bad = await cliJson(down, 'doctor');
    expect(bad).toMatchObject({ code: 1, doc: { ok: false } });
    expect(bad.doc['checks']).toContainEqual(expect.objectContaining({ name: 'redis', level: 'fail' }));
  });

  it('request: the final result; a bad argument and Redis down are error documents', async () => {
    const name = uniqueName('cli-json');
    await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'dev' } });
    const r = await cliJson(h.env, 'request', 'health_check', name, '-e', 'dev', '-r', 'json test');
    expect(r.code).toBe(0);
    expect(ActionResultSchema.parse(r.doc)).toMatchObject({ status: 'executed' });
    expectFailure(await cliJson(h.env, 'request', 'health_check', name, '-e', 'dev'), 'invalid_argument');
    const noRedis = await cliJson(
      down,
      'request',
      'health_check',
      name,
      '-e',
      'dev',
      '-r',
      'x',
      '--timeout',
      '2',
    );
    expectFailure(noRedis, 'timeout');
  });

  it('pending, approve, deny, cancel: their documents, and what is not parked fails', async () => {
    const approved = await parkedRestart();
    const approve = await cliJson(h.env, 'approve', approved.approvalId, '--key', key);
    expect(approve).toMatchObject({ code: 0, doc: { found_in: 'parked', job_id: expect.any(String) } });
    expect(approve.doc['decision']).toMatchObject({ approval_id: approved.approvalId, decision: 'approved' });
    expect(await approved.request).toMatchObject({ code: 0, doc: { status: 'executed' } });

    const denied = await parkedRestart();
    const deny = await cliJson(h.env, 'deny', denied.approvalId, '--key', key, '--reason', 'not now');
    expect(deny).toMatchObject({ code: 0, doc: { decision: { decision: 'denied' } } });
    expect(await denied.request).toMatchObject({ code: 1, doc: { error: { code: 'denied' } } });

    const cancelled = await parkedRestart();
    expect(await cliJson(h.env, 'cancel', cancelled.approvalId)).toMatchObject({
      code: 0,
      doc: { approval_id: cancelled.approvalId, cancelled: true },
    });
    expect((await cancelled.request).code).toBe(1);
    expectFailure(await cliJson(h.env, 'cancel', cancelled.approvalId), 'not_parked');
    expectFailure(await cliJson(h.env, 'approve', cancelled.approvalId, '--key', key), 'ended');
    expectFailure(await cliJson(down, 'pending'), 'redis_unavailable');
    expectFailure(
      await cliJson(down, 'deny', cancelled.approvalId, '--key', key, '--reason', 'x'),
      'redis_unavailable',
    );
  });

  it("approve --wait and deny --wait: the request's final result, exit 0 only when executed", async () => {
    const approved = await parkedRestart();
    const approve = await cliJson(h.env, 'approve', approved.approvalId, '--key', key, '--wait');
    expect(approve.code).toBe(0);
    expect(ActionResultSchema.parse(approve.doc)).toMatchObject({
      status: 'executed',
      approval_id: approved.approvalId,
    });
    // Piped: the wait stays plain, one progress line per report, nothing rewritten in place.
    expect(approve.stderr).not.toContain('\r');
    expect(approve.stderr).toMatch(/^progress: /m);
    expect((await approved.request).code).toBe(0);

    const denied = await parkedRestart();
    const deny = await cliJson(h.env, 'deny', denied.approvalId, '--key', key, '--reason', 'no', '--wait');
    expect(deny).toMatchObject({ code: 1, doc: { status: 'failed', error: { code: 'denied' } } });
    expect((await denied.request).code).toBe(1);
  });

  it('log and log --verify: { verified, entry_count, problems[, entries] }', async () => {
    const log = await cliJson(h.env, 'log');
    expect(log).toMatchObject({ code: 0, doc: { verified: true, problems: [] } });
    expect((log.doc['entries'] as unknown[]).length).toBe(log.doc['entry_count']);
    const verify = await cliJson(h.env, 'log', '--verify');
    expect(Object.keys(verify.doc).sort()).toEqual(['entry_count', 'problems', 'verified']);
    expectFailure(await cliJson(h.env, 'log', '--bogus'), 'invalid_argument');
  });

  it('releases: { service, current, releases }; none recorded is no_releases', async () => {
    const none = await cliJson(h.env, 'releases', uniqueName('never-deployed'));
    expectFailure(none, 'no_releases');
    expect(none.doc).toMatchObject({ current: null, releases: [] });
  });

  it('ask: the answer; with Redis down a timeout', async () => {
    const answer = await cliJson(h.env, 'ask', 'restart web in dev', '--timeout', '30');
    PlainRequestAnswerSchema.parse(answer.doc);
    expectFailure(await cliJson(down, 'ask', 'restart web', '--timeout', '2'), 'timeout');
  });

  it('status and stats: Redis down is an error document', async () => {
    expectFailure(await cliJson(down, 'status', '--timeout', '2'), 'timeout');
    expectFailure(await cliJson(down, 'stats', '--timeout', '2'), 'timeout');
  });
});
