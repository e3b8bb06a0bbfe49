// Counts the fdatasync calls the kernel really sees (strace), so the group-commit test cannot pass on a
// counter that is bumped without a sync. Skipped, with the reason printed, where strace cannot trace.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { verifyRunLogFile } from '../../../src/runlog/verify-file.js';
import { KEY, tempDir } from './fixtures.js';

const run = promisify(execFile);
const child = join(import.meta.dirname, 'append-burst.child.ts');

const skip = await run('strace', ['-qq', '-e', 'trace=none', 'true']).then(
  () => null,
  (error: Error) => `strace cannot trace here (${error.message.split('\n')[0]})`,
);
if (skip) console.warn(`run-log syscall test skipped: ${skip}`);

describe.skipIf(skip !== null)('group commit at the system-call level', () => {
  it('makes 500 concurrent appends durable with a handful of fdatasyncs, not 500', async () => {
    const dir = await tempDir();
    const trace = join(dir, 'strace.txt');
    const { stdout } = await run(
      'strace',
      [
        '-f',
        '-qq',
        '-e',
        'trace=fdatasync',
        '-o',
        trace,
        process.execPath,
        '--import',
        'tsx',
        child,
        join(dir, 'log'),
        '500',
      ],
      { cwd: join(import.meta.dirname, '../../..') },
    );
    expect(JSON.parse(stdout)).toEqual({ appended: 500, lastSeq: 501 });
    const fdatasyncs = (await readFile(trace, 'utf8'))
      .split('\n')
      .filter((l) => /fdatasync\(\d+\)\s+= 0/.test(l));
    console.log(`strace: ${fdatasyncs.length} fdatasync calls for 1 + 500 concurrent appends`);
    // One for the warm-up append, then the 500 in as few batches as arrived during each sync.
    expect(fdatasyncs.length).toBeGreaterThanOrEqual(2);
    expect(fdatasyncs.length).toBeLessThanOrEqual(10);
    expect((await verifyRunLogFile(join(dir, 'log', 'run_log.md'), KEY)).ok).toBe(true);
  });
});
