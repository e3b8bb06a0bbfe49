import { describe, expect, it } from 'vitest';
import { makeRunLogLedger } from '../../../src/gate/run-log-ledger.js';
import { openRunLog } from '../../../src/runlog/appender.js';
import { KEY, tempDir } from './fixtures.js';

describe('the run-log ledger across a rotation', () => {
  it('reads what was appended to the old file before its rotation, and follows the new file from its start', async () => {
    const dir = await tempDir();
    const at = new Date('2026-11-29T17:00:00.000Z');
    const clock = { now: () => at };
    const log = await openRunLog({ dir, key: KEY, clock, rotateBytes: 2048 });
    const ledger = await makeRunLogLedger({ dir, clock, horizonMs: 3_600_000 });
    const filler = 'x'.repeat(200);
    // Several rotations between two refreshes: the consumption lands in the file being rotated away.
    await log.append({ event: 'approved', approval_id: 'a1', job_id: 'j1', message: filler });
    await ledger.refresh();
    expect(ledger.consumedFor('a1')).toBe('j1');
    for (let i = 0; i < 6; i += 1) await log.append({ event: 'executed', message: filler });
    await log.append({ event: 'approved', approval_id: 'a2', job_id: 'j2', message: filler });
    for (let i = 0; i < 12; i += 1) await log.append({ event: 'executed', message: filler });
    await log.append({ event: 'approved', approval_id: 'a3', job_id: 'j3', message: filler });
    for (let i = 0; i < 12; i += 1) await log.append({ event: 'executed', message: filler });
    await log.append({ event: 'approved', approval_id: 'a4', job_id: 'j4', message: filler });
    await log.close();
    await ledger.refresh();
    expect(['a1', 'a2', 'a3', 'a4'].map((id) => ledger.consumedFor(id))).toEqual(['j1', 'j2', 'j3', 'j4']);
  });
});
