import { mkdir, readFile, rename, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openRunLog, type RunLog } from '../../../src/runlog/appender.js';
import { parseHeadRecord } from '../../../src/runlog/chain.js';
import { RunLogIntegrityError, RunLogUnavailableError } from '../../../src/runlog/errors.js';
import { verifyRunLogFile } from '../../../src/runlog/verify-file.js';
import { entryLines, healthRecorder, KEY, steppingClock, tempDir } from './fixtures.js';

const open: RunLog[] = [];
async function openLog(dir: string, extra: Partial<Parameters<typeof openRunLog>[0]> = {}): Promise<RunLog> {
  const log = await openRunLog({ dir, key: KEY, clock: steppingClock(), ...extra });
  open.push(log);
  return log;
}

afterEach(async () => {
  for (const log of open.splice(0)) await log.close();
});

const request = {
  job_id: '7',
  request_id: 'forge:42',
  action: 'health_check',
  target: 'web',
  environment: 'production',
};

describe('openRunLog and append', () => {
  it('creates the log with its header, head record and disk reserve, and every line verifies', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { clock: { now: () => new Date('2026-11-29T17:06:10.123Z') } });
    expect(log.path).toBe(join(dir, 'run_log.md'));
    const a = await log.append({ event: 'received', ...request, message: 'request received' });
    const b = await log.append({ event: 'executed', ...request, message: 'web is healthy' });
    expect([a.seq, b.seq]).toEqual([1, 2]);
    expect(a.at).toBe('2026-11-29T17:06:10.123Z');

    // The head record follows each sync right after the callers hear back; close waits for it.
    await log.close();
    const text = await readFile(log.path, 'utf8');
    expect(text.startsWith('# Helm run log\n')).toBe(true);
    expect(await entryLines(log.path)).toEqual([
      expect.stringMatching(
        /^- 2026-11-29T17:06:10\.123Z · #1 · received · job 7 · req forge:42 · action health_check/,
      ),
      expect.stringMatching(/ · #2 · executed · .* · web is healthy · mac [0-9a-f]{64}$/),
    ]);
    const head = parseHeadRecord(await readFile(`${log.path}.head`, 'utf8'));
    expect(head).toMatchObject({ seq: 2, mac: b.mac });
    expect((await stat(join(dir, '.run_log.md.reserve'))).size).toBe(64 * 1024);
    const verified = await verifyRunLogFile(log.path, KEY);
    expect(verified.problems).toEqual([]);
    expect(verified.entries).toEqual([a, b]);
  });

  it('resolves an append only once its line is synced to disk', async () => {
    const dir = await tempDir();
    let synced = 0;
    const log = await openLog(dir, { onSync: (n) => (synced += n) });
    const entry = await log.append({ event: 'startup', message: 'Helm started' });
    expect(synced).toBe(1);
    expect((await entryLines(log.path)).at(-1)).toContain(`mac ${entry.mac}`);
  });

  it('lands 500 concurrent appends in one chain with contiguous seq, using far fewer syncs than appends', async () => {
    const dir = await tempDir();
    const syncs: number[] = [];
    const log = await openLog(dir, { onSync: (n) => syncs.push(n) });
    await log.append({ event: 'startup', message: 'warm-up' });
    syncs.length = 0;

    const started = performance.now();
    const entries = await Promise.all(
      Array.from({ length: 500 }, (_, i) =>
        log.append({ event: 'executing', job_id: String(i), message: `job ${i}` }),
      ),
    );
    const concurrentMs = performance.now() - started;
    const concurrentSyncs = syncs.splice(0);

    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 2));
    expect(concurrentSyncs.reduce((a, b) => a + b, 0)).toBe(500);
    expect(concurrentSyncs.length).toBeLessThanOrEqual(10);
    const verified = await verifyRunLogFile(log.path, KEY);
    expect(verified.problems).toEqual([]);
    expect(verified.entries.map((e) => e.job_id)).toEqual([
      null,
      ...Array.from({ length: 500 }, (_, i) => String(i)),
    ]);

    // Sequential appends each wait for their own sync: the per-line cost without group commit.
    const sequentialStart = performance.now();
    for (let i = 0; i < 200; i += 1) await log.append({ event: 'executed', message: `sequential ${i}` });
    const sequentialMs = performance.now() - sequentialStart;
    console.log(
      `500 concurrent appends: ${concurrentSyncs.length} fdatasyncs (batches ${concurrentSyncs.join('+')}), ${concurrentMs.toFixed(1)} ms ` +
        `(${Math.round((500 / concurrentMs) * 1000)}/s); 200 sequential appends: ${sequentialMs.toFixed(1)} ms ` +
        `(${Math.round((200 / sequentialMs) * 1000)}/s)`,
    );
  });

  it('continues seq and chain after a restart', async () => {
    const dir = await tempDir();
    const first = await openRunLog({ dir, key: KEY, clock: steppingClock() });
    await first.append({ event: 'startup', message: 'first run' });
    await first.append({ event: 'shutdown', message: 'first run ends' });
    await first.close();
    const header = (await readFile(join(dir, 'run_log.md'), 'utf8')).split('\n- ')[0];

    const second = await openLog(dir);
    const next = await second.append({ event: 'startup', message: 'second run' });
    expect(next.seq).toBe(3);
    expect((await readFile(second.path, 'utf8')).split('\n- ')[0]).toBe(header);
    const verified = await verifyRunLogFile(second.path, KEY);
    expect(verified.problems).toEqual([]);
    expect(verified.entries.map((e) => e.message)).toEqual(['first run', 'first run ends', 'second run']);
  });

  it('writes several entries in one sync with appendMany', async () => {
    const dir = await tempDir();
    const syncs: number[] = [];
    const log = await openLog(dir, { onSync: (n) => syncs.push(n) });
    const entries = await log.appendMany([
      { event: 'approved', ...request, approval_id: 'ap-1', message: 'approved by the owner' },
      { event: 'executing', ...request, approval_id: 'ap-1', message: 'restarting' },
    ]);
    expect(entries.map((e) => e.seq)).toEqual([1, 2]);
    expect(syncs).toEqual([2]);
  });

  it('truncates a long field instead of failing, and rejects a bad event name as a programming error', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    const entry = await log.append({ event: 'alert', message: 'x'.repeat(10_000), code: 'c'.repeat(1000) });
    expect(Array.from(entry.message)).toHaveLength(2000);
    expect(entry.code!.endsWith('…')).toBe(true);
    await expect(log.append({ event: 'Not An Event', message: 'x' })).rejects.toThrow(TypeError);
    expect(log.status().healthy).toBe(true);
  });

  it('accepts an instance file name and refuses a name that merge would not find or that leaves the folder', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { fileName: 'run_log.gate+intake.host-1.md' });
    expect(log.path).toBe(join(dir, 'run_log.gate+intake.host-1.md'));
    await expect(
      openRunLog({ dir, key: KEY, clock: steppingClock(), fileName: '../run_log.md' }),
    ).rejects.toThrow(TypeError);
    await expect(openRunLog({ dir, key: KEY, clock: steppingClock(), fileName: 'audit.md' })).rejects.toThrow(
      TypeError,
    );
  });

  it('rejects appends after close and releases the file for the next writer', async () => {
    const dir = await tempDir();
    const log = await openRunLog({ dir, key: KEY, clock: steppingClock() });
    const pending = log.append({ event: 'shutdown', message: 'bye' });
    await log.close();
    await expect(pending).resolves.toMatchObject({ seq: 1 });
    await expect(log.append({ event: 'alert', message: 'late' })).rejects.toMatchObject({
      name: 'RunLogUnavailableError',
      code: 'ECLOSED',
    });
    const again = await openLog(dir);
    expect((await again.append({ event: 'startup', message: 'again' })).seq).toBe(2);
  });
});

describe('refusing a log that fails verification (fail closed, nothing rewritten)', () => {
  async function logWithEntries(count: number): Promise<{ dir: string; path: string }> {
    const dir = await tempDir();
    const log = await openRunLog({ dir, key: KEY, clock: steppingClock() });
    for (let i = 1; i <= count; i += 1)
      await log.append({ event: 'executed', job_id: String(i), message: `step ${i}` });
    await log.close();
    return { dir, path: join(dir, 'run_log.md') };
  }

  async function expectRefused(dir: string, reason: RegExp): Promise<void> {
    const before = await readFile(join(dir, 'run_log.md'), 'utf8').catch(() => null);
    const error = await openRunLog({ dir, key: KEY, clock: steppingClock() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunLogIntegrityError);
    expect((error as RunLogIntegrityError).problems.map((p) => p.reason).join('\n')).toMatch(reason);
    expect(await readFile(join(dir, 'run_log.md'), 'utf8').catch(() => null)).toBe(before);
    // The refused open released its lock: a fixed log could be opened by the next attempt.
    await expect(stat(join(dir, 'run_log.md.lock'))).rejects.toMatchObject({ code: 'ENOENT' });
  }

  it('refuses an edited line', async () => {
    const { dir, path } = await logWithEntries(3);
    await writeFile(path, (await readFile(path, 'utf8')).replace('step 2', 'step 9'));
    await expectRefused(dir, /mac does not match/);
  });

  it('refuses a log whose last line was deleted', async () => {
    const { dir, path } = await logWithEntries(3);
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.slice(0, text.lastIndexOf('- ')));
    await expectRefused(dir, /reached #3 but the last line is #2/);
  });

  it('refuses a log whose head file was deleted', async () => {
    const { dir, path } = await logWithEntries(2);
    await unlink(`${path}.head`);
    await expectRefused(dir, /head file is missing/);
  });

  it('refuses to start a fresh chain where a log was deleted but its head remains', async () => {
    const { dir, path } = await logWithEntries(2);
    await unlink(path);
    await expectRefused(dir, /log file is missing but its head record exists/);
  });

  it('reports a run-log path that is a directory as unavailable', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'run_log.md'));
    await expect(openRunLog({ dir, key: KEY, clock: steppingClock() })).rejects.toMatchObject({
      name: 'RunLogUnavailableError',
      code: 'EISDIR',
    });
  });
});

describe('failing closed when the disk refuses', () => {
  it('rejects appends while the log path is unwritable, reports unhealthy, and heals once it is writable', async () => {
    const dir = await tempDir();
    const health = healthRecorder();
    const log = await openLog(dir);
    log.onHealthChange(health.listener);
    await log.append({ event: 'startup', message: 'before' });

    // Someone moves the log away and leaves a directory in its place.
    const aside = join(dir, 'moved-away.md');
    await rename(log.path, aside);
    await mkdir(log.path);

    const failed = log.append({ event: 'executing', ...request, message: 'must not be reported as logged' });
    await expect(failed).rejects.toBeInstanceOf(RunLogUnavailableError);
    await expect(failed).rejects.toMatchObject({ code: 'EISDIR', name: 'RunLogUnavailableError' });
    expect(log.status()).toMatchObject({ healthy: false, reason: expect.stringMatching(/directory/) });
    expect(health.seen).toEqual([expect.objectContaining({ healthy: false })]);

    // Appends keep trying the disk, and keep failing while it refuses.
    await expect(log.append({ event: 'executing', message: 'still not' })).rejects.toMatchObject({
      code: 'EISDIR',
    });
    expect(health.seen).toHaveLength(1);

    await rmdir(log.path);
    await rename(aside, log.path);
    const healed = await log.append({ event: 'executed', message: 'after' });
    expect(healed.seq).toBe(2);
    expect(log.status()).toMatchObject({ healthy: true, reason: null });
    expect(health.seen.map((s) => s.healthy)).toEqual([false, true]);

    const verified = await verifyRunLogFile(log.path, KEY);
    expect(verified.problems).toEqual([]);
    expect(verified.entries.map((e) => e.message)).toEqual(['before', 'after']);
  });

  it('refuses to write to a file someone else changed while Helm held the lock', async () => {
    const dir = await tempDir();
    const log = await openLog(dir);
    await log.append({ event: 'startup', message: 'before' });
    await writeFile(log.path, '- an injected line\n', { flag: 'a' });
    // Force a reopen, as after any failure: move the file away and back.
    await rename(log.path, `${log.path}.x`);
    await expect(log.append({ event: 'alert', message: 'x' })).rejects.toMatchObject({ code: 'ENOENT' });
    await rename(`${log.path}.x`, log.path);
    await expect(log.append({ event: 'alert', message: 'y' })).rejects.toMatchObject({ code: 'ECHANGED' });
    expect((await readFile(log.path, 'utf8')).endsWith('- an injected line\n')).toBe(true);
  });
});
