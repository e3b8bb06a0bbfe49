import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openRunLog } from '../../../src/runlog/appender.js';
import { mergeRunLogs } from '../../../src/runlog/merge.js';
import { KEY, tempDir } from './fixtures.js';

/** Writes entries at the given times into one file of `dir`. */
async function writeLog(dir: string, fileName: string, items: [string, string][]): Promise<void> {
  let at = new Date(0);
  const log = await openRunLog({ dir, fileName, key: KEY, clock: { now: () => at } });
  for (const [time, message] of items) {
    at = new Date(time);
    await log.append({ event: 'executed', message });
  }
  await log.close();
}

describe('mergeRunLogs', () => {
  it('merges the files of a folder by time, then file, then seq, and verifies each', async () => {
    const dir = await tempDir();
    await writeLog(dir, 'run_log.md', [
      ['2026-11-29T10:00:00.000Z', 'main 1'],
      ['2026-11-29T10:00:02.000Z', 'main 2'],
      ['2026-11-29T10:00:04.000Z', 'main 3'],
    ]);
    await writeLog(dir, 'run_log.gate.md', [
      ['2026-11-29T10:00:01.000Z', 'gate 1'],
      ['2026-11-29T10:00:04.000Z', 'gate 2'],
      ['2026-11-29T10:00:04.000Z', 'gate 3'],
    ]);
    await writeFile(join(dir, 'notes.md'), 'not a run log\n');

    const merged = await mergeRunLogs(dir, KEY);
    expect(merged.ok).toBe(true);
    expect(merged.files).toEqual(['run_log.gate.md', 'run_log.md']);
    expect(merged.entries.map((e) => `${e.file}#${e.seq} ${e.message}`)).toEqual([
      'run_log.md#1 main 1',
      'run_log.gate.md#1 gate 1',
      'run_log.md#2 main 2',
      'run_log.gate.md#2 gate 2',
      'run_log.gate.md#3 gate 3',
      'run_log.md#3 main 3',
    ]);
  });

  it('reports which file fails verification, and still shows the entries', async () => {
    const dir = await tempDir();
    await writeLog(dir, 'run_log.md', [['2026-11-29T10:00:00.000Z', 'fine']]);
    await writeLog(dir, 'run_log.gate.md', [['2026-11-29T10:00:01.000Z', 'approved by nobody']]);
    const path = join(dir, 'run_log.gate.md');
    await writeFile(path, (await readFile(path, 'utf8')).replace('nobody', 'the owner'));

    const merged = await mergeRunLogs(dir, KEY);
    expect(merged.ok).toBe(false);
    expect(merged.problems).toEqual([
      { file: 'run_log.gate.md', line: 11, reason: expect.stringMatching(/^mac does not match/) },
    ]);
    expect(merged.entries).toHaveLength(2);
  });
});
