// The status page's run log (run-log-view.ts): after one full verification a refresh reads and
// verifies only what was appended; a tampered or forged appended entry still shows as broken (on every
// refresh after, too); a replaced, truncated or rotated file is verified in full; an edit inside the
// verified prefix shows at the next full verification (fullEveryMs). Real files in a temp folder,
// written by Helm's own appender.
import { copyFile, mkdtemp, readdir, readFile, rename, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeRunLogView } from '../../../src/http/run-log-view.js';
import { openRunLog, type RunLog } from '../../../src/runlog/index.js';

const KEY = Buffer.alloc(32, 0x5a);

async function setUp(options: { rotateBytes?: number } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'helm-page-log-'));
  let t = Date.parse('2026-12-03T12:00:00.000Z');
  const log = await openRunLog({ dir, key: KEY, clock: { now: () => new Date(t++) }, ...options });
  let now = 0;
  const view = makeRunLogView(dir, KEY, { keepEntries: 5, fullEveryMs: 60_000, now: () => now });
  return {
    dir,
    log,
    view,
    path: join(dir, 'run_log.md'),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const append = (log: RunLog, message: string) => log.append({ event: 'executed', message });

describe('the status page run log view', () => {
  it('verifies in full once, then only what was appended, keeping the newest entries', async () => {
    const { log, view } = await setUp();
    for (let i = 1; i <= 3; i++) await append(log, `m${i}`);
    const first = await view();
    expect(first).toMatchObject({ ok: true, modes: { 'run_log.md': 'full' }, problems: [] });

    const idle = await view();
    expect(idle.modes).toEqual({ 'run_log.md': 'appended' });
    expect(idle.entries.map((e) => e.message)).toEqual(first.entries.map((e) => e.message));

    for (let i = 4; i <= 7; i++) await append(log, `m${i}`);
    const next = await view();
    expect(next).toMatchObject({ ok: true, modes: { 'run_log.md': 'appended' }, problems: [] });
    expect(next.entries.map((e) => e.message)).toEqual(['m3', 'm4', 'm5', 'm6', 'm7'].map((m) => m));
    expect(next.entries.at(-1)).toMatchObject({ seq: 7, file: 'run_log.md' });
    await log.close();
  });

  it('shows a tampered appended entry as broken, on that refresh and the ones after', async () => {
    const { log, view, path } = await setUp();
    await append(log, 'fine');
    expect((await view()).ok).toBe(true);
    await append(log, 'deploy web to v2');
    await log.close();
    const text = await readFile(path, 'utf8');
    await writeFile(path, text.replace('deploy web to v2', 'deploy web to v3'));

    for (let i = 0; i < 2; i++) {
      const broken = await view();
      expect(broken.ok).toBe(false);
      expect(broken.modes).toEqual({ 'run_log.md': 'full' });
      expect(broken.problems.map((p) => p.reason).join('\n')).toMatch(/mac does not match/);
      expect(broken.entries.at(-1)?.message).toBe('deploy web to v3');
    }
  });

  it('shows a line appended without the key as broken', async () => {
    const { log, view, path } = await setUp();
    await append(log, 'fine');
    expect((await view()).ok).toBe(true);
    await log.close();
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.startsWith('- '));
    const forged = lines
      .at(-1)!
      .replace(' #2 ', ' #3 ')
      .replace(/[0-9a-f]{64}$/, 'f'.repeat(64));
    await writeFile(path, `${await readFile(path, 'utf8')}${forged}\n`, { flag: 'w' });
    const broken = await view();
    expect(broken.ok).toBe(false);
    expect(broken.modes).toEqual({ 'run_log.md': 'full' });
  });

  it('verifies a replaced or truncated live file in full', async () => {
    const { log, view, path, dir } = await setUp();
    for (let i = 1; i <= 3; i++) await append(log, `m${i}`);
    await log.close();
    await view();

    // Same content, another file (a restore from a copy): read in full, still fine.
    await copyFile(path, join(dir, 'copy'));
    await rename(join(dir, 'copy'), path);
    expect(await view()).toMatchObject({ ok: true, modes: { 'run_log.md': 'full' } });
    expect((await view()).modes).toEqual({ 'run_log.md': 'appended' });

    // Lines cut from the end: read in full, and the head record says lines are missing.
    const text = await readFile(path, 'utf8');
    await truncate(path, Buffer.byteLength(text.slice(0, text.lastIndexOf('- '))));
    const cut = await view();
    expect(cut).toMatchObject({ ok: false, modes: { 'run_log.md': 'full' } });
    expect(cut.problems.map((p) => p.reason).join('\n')).toMatch(/deleted/);
  });

  it('verifies in full after a rotation, then appends alone again, the chain running on across the files', async () => {
    const { log, view, dir } = await setUp({ rotateBytes: 2000 });
    await append(log, 'before');
    expect((await view()).modes).toEqual({ 'run_log.md': 'full' });
    for (let i = 0; i < 12; i++) await append(log, `line ${i} ${'x'.repeat(60)}`);
    // The rotated file is compressed in the background: looked at once that is done.
    await log.close();
    await expect.poll(async () => (await readdir(dir)).filter((n) => /\.md\.[0-9]+$/.test(n))).toEqual([]);
    const rotated = await view();
    expect(rotated).toMatchObject({ ok: true, modes: { 'run_log.md': 'full' }, problems: [] });
    expect(rotated.files).toContain('run_log.md.1.gz');

    const reopened = await openRunLog({
      dir,
      key: KEY,
      clock: { now: () => new Date('2026-12-03T13:00:00.000Z') },
    });
    await append(reopened, 'after');
    const after = await view();
    expect(after).toMatchObject({ ok: true, modes: { 'run_log.md': 'appended' } });
    expect(after.entries.at(-1)?.message).toBe('after');
    await reopened.close();
  });

  it('an edit inside the verified prefix shows at the next full verification', async () => {
    const { log, view, path, advance } = await setUp();
    await append(log, 'approve aaaa');
    await append(log, 'last');
    await log.close();
    expect((await view()).ok).toBe(true);
    const text = await readFile(path, 'utf8');
    // Same length, same inode: the appended-only read cannot see it...
    await writeFile(path, text.replace('approve aaaa', 'approve bbbb'), { flag: 'r+' });
    expect((await view()).modes).toEqual({ 'run_log.md': 'appended' });
    // ...the periodic full verification does.
    advance(60_000);
    const later = await view();
    expect(later).toMatchObject({ ok: false, modes: { 'run_log.md': 'full' } });
  });
});
