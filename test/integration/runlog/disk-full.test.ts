// Real ENOSPC and EROFS on small tmpfs mounts (the tests run as root). Skipped, with the reason printed,
// only where mounting is not allowed.
import { execFileSync } from 'node:child_process';
import { mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRunLog } from '../../../src/runlog/appender.js';
import { RunLogUnavailableError } from '../../../src/runlog/errors.js';
import { verifyRunLogFile } from '../../../src/runlog/verify-file.js';
import { entryLines, healthRecorder, KEY, steppingClock, tempDir } from './fixtures.js';

const mounts: string[] = [];

async function mountTmpfs(size: string): Promise<{ dir: string } | { skip: string }> {
  const dir = join(await tempDir(), 'tmpfs');
  await mkdir(dir);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    return { skip: `cannot mount tmpfs (${String((error as { stderr?: Buffer }).stderr ?? error).trim()})` };
  }
  mounts.push(dir);
  return { dir };
}

afterAll(() => {
  for (const dir of mounts.reverse()) execFileSync('umount', ['-l', dir]);
});

/** Writes to `path` until the file system says ENOSPC. */
async function fillDisk(path: string): Promise<void> {
  const handle = await open(path, 'w');
  const chunk = Buffer.alloc(4096, 1);
  try {
    for (;;) await handle.write(chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    await handle.close();
  }
}

const probe = await mountTmpfs('256k');
const skip = 'skip' in probe ? probe.skip : null;
if (skip) console.warn(`run-log disk tests skipped: ${skip}`);

describe.skipIf(skip !== null)('a full disk (tmpfs of 256 KiB)', () => {
  it('spends the reserve on one last disk_full line, stays unhealthy while full, and resumes once space is freed', async () => {
    const dir = (probe as { dir: string }).dir;
    const health = healthRecorder();
    const log = await openRunLog({ dir, key: KEY, clock: steppingClock() });
    log.onHealthChange(health.listener);
    const reserve = join(dir, '.run_log.md.reserve');
    expect((await stat(reserve)).size).toBe(64 * 1024);
    await log.append({ event: 'startup', message: 'Helm started' });

    await fillDisk(join(dir, 'filler'));
    // Larger than what is left of the log's last page, so the write needs new blocks.
    const big = Array.from({ length: 4 }, (_, i) => ({
      event: 'executing',
      job_id: String(i),
      message: 'x'.repeat(2000),
    }));
    const refused = log.appendMany(big);
    await expect(refused).rejects.toBeInstanceOf(RunLogUnavailableError);
    await expect(refused).rejects.toMatchObject({ code: 'ENOSPC' });

    const status = log.status();
    expect(status.healthy).toBe(false);
    expect(status.reason).toMatch(/disk full.*disk_full entry \(#2\).*owner/);
    expect(health.seen).toEqual([expect.objectContaining({ healthy: false })]);
    await expect(stat(reserve)).rejects.toMatchObject({ code: 'ENOENT' });

    const lines = await entryLines(log.path);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(
      / · #2 · disk_full · .* · code ENOSPC · The disk holding this run log is full\./,
    );
    expect(lines[1]).toMatch(/4 pending entries were refused/);
    expect(lines[1]).toMatch(/owner’s job/);

    // Still full: appends keep failing and write nothing, not even into the freed reserve's space.
    await expect(log.append({ event: 'executing', message: 'still full' })).rejects.toMatchObject({
      code: 'ENOSPC',
      message: expect.stringMatching(/still full/),
    });
    expect(await entryLines(log.path)).toHaveLength(2);
    expect((await readdir(dir)).filter((f) => f.includes('reserve'))).toEqual([]);
    expect(log.status().healthy).toBe(false);

    // The owner frees space: the reserve comes back first, then the log resumes.
    await unlink(join(dir, 'filler'));
    const resumed = await log.append({ event: 'state_change', message: 'disk has space again' });
    expect(resumed.seq).toBe(3);
    expect(log.status().healthy).toBe(true);
    expect(health.seen.map((s) => s.healthy)).toEqual([false, true]);
    expect((await stat(reserve)).size).toBe(64 * 1024);
    await log.close();

    const verified = await verifyRunLogFile(log.path, KEY);
    expect(verified.problems).toEqual([]);
    expect(verified.entries.map((e) => e.event)).toEqual(['startup', 'disk_full', 'state_change']);
  });
});

describe.skipIf(skip !== null)('a read-only file system', () => {
  it('refuses to open the log for writing with RunLogUnavailableError, and still lets it be verified', async () => {
    const mounted = await mountTmpfs('1m');
    if ('skip' in mounted) throw new Error(mounted.skip);
    const dir = mounted.dir;
    const first = await openRunLog({ dir, key: KEY, clock: steppingClock() });
    await first.append({ event: 'startup', message: 'written before the disk went read-only' });
    await first.close();
    execFileSync('mount', ['-o', 'remount,ro', dir]);

    const error = await openRunLog({ dir, key: KEY, clock: steppingClock() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunLogUnavailableError);
    expect((error as RunLogUnavailableError).code).toBe('EROFS');
    expect((await verifyRunLogFile(join(dir, 'run_log.md'), KEY)).ok).toBe(true);
    expect(await readFile(join(dir, 'run_log.md'), 'utf8')).toMatch(/written before the disk went read-only/);
  });
});
