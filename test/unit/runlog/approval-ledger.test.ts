import { describe, expect, it } from 'vitest';
import { makeApprovalLedger, recentEntries } from '../../../src/runlog/approval-ledger.js';

describe('the approval ledger', () => {
  it('knows which request each approval was consumed for, the first one winning, and which started', () => {
    const ledger = makeApprovalLedger([
      { event: 'pending_approval', approval_id: 'a', job_id: '1' },
      { event: 'approved', approval_id: 'a', job_id: '1' },
      { event: 'approved', approval_id: 'a', job_id: '9' },
      { event: 'denied', approval_id: 'b', job_id: '2' },
      { event: 'executing', approval_id: 'a', job_id: '1' },
      { event: 'executing', approval_id: null, job_id: '3' },
    ]);
    expect(ledger.consumedFor('a')).toBe('1');
    expect(ledger.consumedFor('b')).toBe('2');
    expect(ledger.consumedFor('c')).toBeNull();
    expect(ledger.hasStarted('a')).toBe(true);
    expect(ledger.hasStarted('b')).toBe(false);
    ledger.note({ event: 'executing', approval_id: 'b', job_id: '2' });
    expect(ledger.hasStarted('b')).toBe(true);
  });

  it('reads only entries within the horizon', () => {
    const now = new Date('2026-11-29T12:00:00.000Z');
    const entries = [{ at: '2026-11-29T10:00:00.000Z' }, { at: '2026-11-29T11:30:00.000Z' }];
    expect(recentEntries(entries, now, 3600_000)).toEqual([{ at: '2026-11-29T11:30:00.000Z' }]);
  });
});
