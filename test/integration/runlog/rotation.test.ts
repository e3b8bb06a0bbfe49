import { link, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { openRunLog, type RunLog, type RunLogOptions } from '../../../src/runlog/appender.js';
import { RunLogIntegrityError } from '../../../src/runlog/errors.js';
import { mergeRunLogs } from '../../../src/runlog/merge.js';
import { verifyRunLogChain } from '../../../src/runlog/verify-chain.js';
import { KEY, steppingClock, tempDir } from './fixtures.js';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);

const open: RunLog[] = [];
async function openLog(dir: string, extra: Partial<RunLogOptions> = {}): Promise<RunLog> {
  const log = await openRunLog({ dir, key: KEY, clock: steppingClock(), rotateBytes: 4096, ...extra });
  open.push(log);
  return log;
}
async function closeAll(): Promise<void> {
  for (const log of open.splice(0)) await log.close();
}
afterEach(closeAll);

const message = (i: number) => `entry ${i} ${'x'.repeat(100)}`;

async function appendMany(log: RunLog, count: number, from = 0): Promise<number[]> {
  const entries = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      log.append({ event: 'executed', job_id: String(from + i), message: message(from + i) }),
    ),
  );
  return entries.map((e) => e.seq);
}

/** `count` entries in rounds of 10 concurrent appends, so that the log rotates between rounds. */
async function fill(log: RunLog, count: number): Promise<void> {
  for (let i = 0; i < count; i += 10) await appendMany(log, Math.min(10, count - i), i);
}

async function rotatedFiles(dir: string): Promise<string[]> {
  return (await readdir(dir))
    .filter((f) => /^run_log\.md\.[0-9]+(\.gz)?$/.test(f))
    .sort((a, b) => Number(a.split('.')[2]) - Number(b.split('.')[2]));
}

describe('run-log rotation', () => {
  it('rotates under concurrent appends: no entry lost, seq contiguous, one chain verified across the files', async () => {
    const dir = await tempDir();
    const rotations: string[] = [];
    const log = await openLog(dir, { onRotate: (p) => rotations.push(p) });
    const seqs: number[] = [];
    for (let round = 0; round < 10; round += 1) seqs.push(...(await appendMany(log, 40, round * 40)));
    await closeAll();

    expect(seqs.sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(rotations.length).toBeGreaterThanOrEqual(5);
    const rotated = await rotatedFiles(dir);
    // Every rotated file is compressed and numbered 1..k; no uncompressed copy is left.
    expect(rotated).toEqual(rotations.map((_, i) => `run_log.md.${i + 1}.gz`));

    const chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toEqual([]);
    expect(chain.ok).toBe(true);
    expect(chain.files).toEqual([...rotated, 'run_log.md']);
    expect(chain.entries.map((e) => e.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    expect(new Set(chain.entries.map((e) => e.job_id)).size).toBe(400);
    expect(chain.end?.seq).toBe(400);
    // Each rotated file went over the limit only by its last batch.
    const first = (await gunzip(await readFile(join(dir, rotated[0]!)))).toString('utf8');
    expect(first).toContain('first seq 1\n');
    expect(first).not.toContain('previous mac');

    const merged = await mergeRunLogs(dir, KEY);
    expect(merged.ok).toBe(true);
    expect(merged.files).toEqual([...rotated, 'run_log.md']);
    expect(merged.entries.map((e) => e.seq)).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
  });

  it('never deletes a run-log file: every rotated file remains after many rotations', async () => {
    const dir = await tempDir();
    const log = await openLog(dir, { rotateBytes: 1024 });
    for (let i = 0; i < 250; i += 1) await log.append({ event: 'executed', message: message(i) });
    await closeAll();
    const rotated = await rotatedFiles(dir);
    expect(rotated.length).toBeGreaterThanOrEqual(100);
    expect(rotated).toEqual(rotated.map((_, i) => `run_log.md.${i + 1}.gz`));
    const chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toEqual([]);
    expect(chain.entries).toHaveLength(250);
  });

  it('continues after a restart: the reopened log keeps the chain and the numbering', async () => {
    const dir = await tempDir();
    const first = await openLog(dir);
    await fill(first, 100);
    await closeAll();
    const before = await rotatedFiles(dir);
    expect(before.length).toBeGreaterThan(0);

    const second = await openLog(dir);
    const seqs = await appendMany(second, 100, 100);
    expect(Math.min(...seqs)).toBe(101);
    await closeAll();
    const after = await rotatedFiles(dir);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBeGreaterThan(before.length);
    const chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toEqual([]);
    expect(chain.entries.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  });

  it('detects an edited line in a rotated (gzipped) file', async () => {
    const dir = await tempDir();
    await fill(await openLog(dir), 100);
    await closeAll();
    const path = join(dir, 'run_log.md.2.gz');
    const text = (await gunzip(await readFile(path))).toString('utf8');
    const edited = text.replace(/entry (\d+) x/, 'entry $1 y');
    expect(edited).not.toBe(text);
    await writeFile(path, await gzip(Buffer.from(edited)));

    const chain = await verifyRunLogChain(dir, KEY);
    expect(chain.ok).toBe(false);
    expect(chain.problems).toEqual([
      {
        file: 'run_log.md.2.gz',
        line: expect.any(Number),
        reason: expect.stringMatching(/^mac does not match/),
      },
    ]);
    expect((await mergeRunLogs(dir, KEY)).ok).toBe(false);
  });

  it('detects the last line cut from a rotated file', async () => {
    const dir = await tempDir();
    await fill(await openLog(dir), 100);
    await closeAll();
    const path = join(dir, 'run_log.md.1.gz');
    const text = (await gunzip(await readFile(path))).toString('utf8');
    await writeFile(path, await gzip(Buffer.from(text.replace(/- [^\n]*\n$/, ''))));
    const chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toEqual([
      {
        file: 'run_log.md.2.gz',
        line: 0,
        reason: expect.stringMatching(/ends at #\d+: a run-log file is missing or out of order/),
      },
    ]);
  });

  it('detects a missing rotated file, in the middle, the newest, or all of them', async () => {
    const dir = await tempDir();
    await fill(await openLog(dir), 100);
    await closeAll();
    const rotated = await rotatedFiles(dir);
    expect(rotated.length).toBeGreaterThanOrEqual(3);
    const aside = join(dir, 'aside');

    await rename(join(dir, 'run_log.md.2.gz'), aside);
    let chain = await verifyRunLogChain(dir, KEY);
    expect(chain.ok).toBe(false);
    expect(chain.problems).toContainEqual({
      file: 'run_log.md.2.gz',
      line: 0,
      reason: expect.stringMatching(/rotated run-log file is missing/),
    });
    expect(chain.problems).toContainEqual({
      file: 'run_log.md.3.gz',
      line: 0,
      reason: expect.stringMatching(/missing or out of order/),
    });
    await rename(aside, join(dir, 'run_log.md.2.gz'));

    const newest = rotated.at(-1)!;
    await rename(join(dir, newest), aside);
    chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toEqual([
      { file: 'run_log.md', line: 0, reason: expect.stringMatching(/missing or out of order/) },
    ]);
    // Helm refuses to append to a log whose rotated file went missing.
    await expect(openRunLog({ dir, key: KEY, clock: steppingClock() })).rejects.toThrow(RunLogIntegrityError);
    await rename(aside, join(dir, newest));

    await rename(join(dir, 'run_log.md.1.gz'), aside);
    chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toContainEqual({
      file: 'run_log.md.2.gz',
      line: 0,
      reason: expect.stringMatching(/continues an earlier one .* which is missing/),
    });
    await rename(aside, join(dir, 'run_log.md.1.gz'));

    expect((await verifyRunLogChain(dir, KEY)).ok).toBe(true);
  });

  it('detects reordered rotated files', async () => {
    const dir = await tempDir();
    await fill(await openLog(dir), 100);
    await closeAll();
    await rename(join(dir, 'run_log.md.1.gz'), join(dir, 'swap'));
    await rename(join(dir, 'run_log.md.2.gz'), join(dir, 'run_log.md.1.gz'));
    await rename(join(dir, 'swap'), join(dir, 'run_log.md.2.gz'));
    const chain = await verifyRunLogChain(dir, KEY);
    expect(chain.ok).toBe(false);
    expect(chain.problems.map((p) => p.file)).toEqual(
      expect.arrayContaining(['run_log.md.1.gz', 'run_log.md.2.gz']),
    );
  });

  it('refuses to start a new chain when the live file is gone but rotated files remain', async () => {
    const dir = await tempDir();
    await fill(await openLog(dir), 100);
    await closeAll();
    await rename(join(dir, 'run_log.md'), join(dir, 'aside'));
    await rename(join(dir, 'run_log.md.head'), join(dir, 'aside.head'));
    await expect(openRunLog({ dir, key: KEY, clock: steppingClock() })).rejects.toThrow(
      /rotated files .* exist/,
    );
    const chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toContainEqual({
      file: 'run_log.md',
      line: 0,
      reason: expect.stringMatching(/live run-log file is missing/),
    });
  });

  it('recovers a rotation cut off before the switch, and one cut off before compression', async () => {
    const dir = await tempDir();
    await fill(await openLog(dir), 60);
    await closeAll();
    const rotated = await rotatedFiles(dir);
    const n = rotated.length + 1;

    // Crash after step 2: a hard link to the live file under the next rotated name.
    await link(join(dir, 'run_log.md'), join(dir, `run_log.md.${n}`));
    let log = await openLog(dir);
    await log.append({ event: 'executed', message: 'after the first crash' });
    await closeAll();
    let chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toEqual([]);

    // Crash during step 4: an uncompressed rotated copy and no .gz yet.
    const names = await rotatedFiles(dir);
    const last = names.at(-1)!;
    const plain = join(dir, last.replace(/\.gz$/, ''));
    await writeFile(plain, await gunzip(await readFile(join(dir, last))));
    await unlink(join(dir, last));
    chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toEqual([]);
    expect(chain.files).toContain(last.replace(/\.gz$/, ''));
    log = await openLog(dir);
    await log.append({ event: 'executed', message: 'after the second crash' });
    await closeAll();
    expect(await rotatedFiles(dir)).toEqual(names);
    chain = await verifyRunLogChain(dir, KEY);
    expect(chain.problems).toEqual([]);
    expect(chain.entries.at(-1)?.message).toBe('after the second crash');
  });

  it('does not rotate with rotateBytes 0', async () => {
    const dir = await tempDir();
    await appendMany(await openLog(dir, { rotateBytes: 0 }), 100);
    await closeAll();
    expect(await rotatedFiles(dir)).toEqual([]);
  });
});
