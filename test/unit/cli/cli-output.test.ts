// The CLI's printing rules as data: with --json one JSON document on one line (a failure's with
// `error: { code, message }`), a failure one line on stderr and a non-zero exit; progress with the
// elapsed time on a terminal, plain lines when piped.
import { describe, expect, it } from 'vitest';
import { describeDoctor } from '../../../src/cli/doctor.js';
import { keyFilesJson } from '../../../src/cli/keys-command.js';
import { describeLog } from '../../../src/cli/log-command.js';
import { CliError, describeFailure, errorBody } from '../../../src/cli/output.js';
import { describeCancel, describePending } from '../../../src/cli/pending-command.js';
import { formatElapsed, progressLine, startProgress } from '../../../src/cli/progress.js';
import { describeReleases } from '../../../src/cli/releases-command.js';
import { RequestTimeoutError } from '../../../src/cli/request-command.js';
import { describeActionResult } from '../../../src/cli/status-command.js';

const oneDocument = (stdout: string) => {
  expect(stdout.endsWith('\n')).toBe(true);
  expect(stdout.trimEnd().split('\n')).toHaveLength(1);
  return JSON.parse(stdout) as Record<string, unknown>;
};

describe('failures', () => {
  it('one line on stderr; with --json the error document too', () => {
    const err = new CliError('not_parked', 'x is not\nparked');
    expect(describeFailure(err, false)).toEqual({
      stdout: '',
      stderr: 'helm: x is not parked\n',
      exitCode: 1,
    });
    const json = describeFailure(err, true);
    expect(oneDocument(json.stdout)).toEqual({ error: { code: 'not_parked', message: 'x is not parked' } });
  });

  it('keeps a CliError exit code (a config error is 2)', () => {
    expect(describeFailure(new CliError('config', 'bad', 2), true).exitCode).toBe(2);
  });

  it('names a timeout, a Redis that gave up, a coded error and anything else', () => {
    expect(errorBody(new RequestTimeoutError('no final result')).code).toBe('timeout');
    const gaveUp = Object.assign(new Error('max retries'), { name: 'MaxRetriesPerRequestError' });
    expect(errorBody(gaveUp).code).toBe('redis_unavailable');
    expect(errorBody(Object.assign(new Error('exists'), { code: 'key_file' })).code).toBe('key_file');
    expect(errorBody(Object.assign(new Error('gone'), { code: 'ENOENT' })).code).toBe('internal');
    expect(errorBody('plain')).toEqual({ code: 'internal', message: 'plain' });
  });
});

describe('each verb with --json: one document, stable keys', () => {
  it('doctor: { ok, checks }, exit 1 when one fails', () => {
    const checks = [
      { level: 'ok' as const, name: 'docker', message: 'fine' },
      { level: 'fail' as const, name: 'redis', message: 'down' },
    ];
    const out = describeDoctor(checks, true);
    expect(oneDocument(out.stdout)).toEqual({ ok: false, checks });
    expect(out.exitCode).toBe(1);
    expect(describeDoctor(checks.slice(0, 1), false)).toEqual({
      stdout: 'ok    docker: fine\n',
      stderr: '',
      exitCode: 0,
    });
  });

  it('log: { verified, entry_count, problems, entries }; --verify leaves the entries out', () => {
    const merged = {
      ok: false,
      files: ['run_log.md'],
      entries: [],
      problems: [{ file: 'run_log.md', line: 3, reason: 'hash mismatch' }],
    };
    const out = describeLog(merged, { verify: false, json: true });
    expect(oneDocument(out.stdout)).toEqual({
      verified: false,
      entry_count: 0,
      problems: merged.problems,
      entries: [],
    });
    expect(out).toMatchObject({ stderr: 'chain problem: run_log.md line 3: hash mismatch\n', exitCode: 1 });
    const verify = describeLog({ ...merged, ok: true, problems: [] }, { verify: true, json: true });
    expect(oneDocument(verify.stdout)).toEqual({ verified: true, entry_count: 0, problems: [] });
    expect(describeLog({ ...merged, problems: [] }, { verify: true, json: false }).stdout).toBe(
      'run log verified: 0 entries\n',
    );
  });

  it('pending and cancel', () => {
    expect(oneDocument(describePending([], true).stdout)).toEqual({ pending: [] });
    expect(describePending([], false).stdout).toBe('no request is waiting for Warden\n');
    expect(oneDocument(describeCancel('a1', 'cancelled', true).stdout)).toEqual({
      approval_id: 'a1',
      cancelled: true,
    });
    expect(() => describeCancel('a1', 'not_parked', true)).toThrow(CliError);
  });

  it('releases: { service, current, releases }; none is exit 1 with an error', () => {
    const none = describeReleases({ service: 'web', current: null, releases: [] }, true);
    expect(oneDocument(none.stdout)).toEqual({
      service: 'web',
      current: null,
      releases: [],
      error: { code: 'no_releases', message: 'no releases recorded for web' },
    });
    expect(none.exitCode).toBe(1);
  });

  it('keys generate: { key_id, private_key_path, public_key_path }', () => {
    const files = { keyId: 'k1', privateKeyPath: '/a.key.pem', publicKeyPath: '/a.pub.pem' };
    expect(oneDocument(keyFilesJson(files))).toEqual({
      key_id: 'k1',
      private_key_path: '/a.key.pem',
      public_key_path: '/a.pub.pem',
    });
  });

  it('request: the result on one line; without --json indented; a failed one also on stderr', () => {
    const failed = { status: 'failed', error: { code: 'unknown_target', message: 'no web' } };
    const json = describeActionResult('request', failed, true);
    expect(oneDocument(json.stdout)).toEqual(failed);
    expect(json).toMatchObject({ stderr: 'helm request: unknown_target: no web\n', exitCode: 1 });
    const people = describeActionResult('request', { status: 'executed' }, false);
    expect(people).toEqual({ stdout: '{\n  "status": "executed"\n}\n', stderr: '', exitCode: 0 });
  });
});

describe('progress of a long wait', () => {
  it('formats the elapsed time', () => {
    expect([0, 45_900, 125_000, 3_720_000].map(formatElapsed)).toEqual(['0s', '45s', '2m05s', '1h02m']);
  });

  it('a terminal line: elapsed time, status and outcome on one line', () => {
    expect(
      progressLine('waiting', 12_000, { status: 'pending_approval', outcome: 'parked\nfor Warden' }),
    ).toBe('waiting 12s: pending_approval (parked for Warden)');
    expect(progressLine('waiting', 1000, undefined)).toBe('waiting 1s');
  });

  it('on a terminal the line is rewritten in place and cleared at the end', () => {
    const written: string[] = [];
    let t = 0;
    const p = startProgress({
      label: 'waiting',
      terminal: true,
      write: (s) => written.push(s),
      now: () => t,
    });
    t = 3000;
    p.update({ status: 'running' });
    p.stop();
    expect(written.every((w) => w.startsWith('\r') && !w.includes('\n'))).toBe(true);
    expect(written[1]).toContain('waiting 3s: running');
  });

  it('piped: one plain line per report, nothing rewritten', () => {
    const written: string[] = [];
    const p = startProgress({ label: 'waiting', terminal: false, write: (s) => written.push(s) });
    p.update({ status: 'running' });
    p.stop();
    expect(written).toEqual(['progress: {"status":"running"}\n']);
  });
});
