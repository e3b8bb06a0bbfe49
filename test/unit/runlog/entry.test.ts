import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  draftFromInput,
  FIELD_MAX_CODE_POINTS,
  MESSAGE_MAX_CODE_POINTS,
  truncateCodePoints,
} from '../../../src/runlog/entry.js';
import { anyString } from './arbitraries.js';

const now = () => new Date('2026-11-29T17:06:10.123Z');

describe('draftFromInput', () => {
  it('fills absent fields with null and takes the time from the clock', () => {
    expect(draftFromInput({ event: 'startup', message: 'Helm started' }, now)).toEqual({
      at: '2026-11-29T17:06:10.123Z',
      event: 'startup',
      job_id: null,
      request_id: null,
      action: null,
      target: null,
      environment: null,
      approval_id: null,
      code: null,
      message: 'Helm started',
    });
  });

  it('prefers the time the caller gives', () => {
    const at = new Date('2026-01-02T03:04:05.006Z');
    expect(draftFromInput({ event: 'alert', message: 'x', at }, now).at).toBe('2026-01-02T03:04:05.006Z');
  });

  it('keeps the empty string apart from null', () => {
    const d = draftFromInput({ event: 'received', message: '', job_id: '', request_id: null }, now);
    expect(d.job_id).toBe('');
    expect(d.request_id).toBeNull();
    expect(d.message).toBe('');
  });

  it.each([
    ['an event with capitals', { event: 'Executed', message: 'x' }],
    ['an event too long', { event: `a${'b'.repeat(40)}`, message: 'x' }],
    ['an empty event', { event: '', message: 'x' }],
    ['a missing message', { event: 'executed' }],
    ['a number where a string belongs', { event: 'executed', message: 'x', job_id: 7 }],
    ['an invalid date', { event: 'executed', message: 'x', at: new Date('nope') }],
    [
      'a date past year 9999',
      { event: 'executed', message: 'x', at: new Date('+010000-01-01T00:00:00.000Z') },
    ],
  ])('throws a TypeError for %s (a programming error, not a long field)', (_name, input) => {
    expect(() => draftFromInput(input as never, now)).toThrow(TypeError);
  });

  it('accepts every event name of the open set, including Helm’s own', () => {
    for (const event of [
      'received',
      'pending_approval',
      'rolled_back',
      'startup',
      'disk_full',
      'state_change',
      'a',
    ]) {
      expect(draftFromInput({ event, message: 'x' }, now).event).toBe(event);
    }
  });

  it('cuts long values to their cap with an ellipsis instead of throwing', () => {
    const d = draftFromInput({ event: 'executed', message: 'm'.repeat(5000), target: 't'.repeat(1000) }, now);
    expect(Array.from(d.message)).toHaveLength(MESSAGE_MAX_CODE_POINTS);
    expect(d.message.endsWith('m…')).toBe(true);
    expect(Array.from(d.target!)).toHaveLength(FIELD_MAX_CODE_POINTS);
    expect(d.target!.endsWith('t…')).toBe(true);
  });

  it('never throws for any field content or length, and respects the caps', () => {
    const long = fc.oneof(
      anyString,
      anyString.map((s) => s.repeat(300)),
    );
    fc.assert(
      fc.property(long, long, (message, field) => {
        const d = draftFromInput({ event: 'executed', message, code: field, approval_id: field }, now);
        expect(Array.from(d.message).length).toBeLessThanOrEqual(MESSAGE_MAX_CODE_POINTS);
        expect(Array.from(d.code!).length).toBeLessThanOrEqual(FIELD_MAX_CODE_POINTS);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('truncateCodePoints', () => {
  it('counts code points, so it never splits a surrogate pair', () => {
    const emoji = '\u{1f600}'.repeat(10);
    const cut = truncateCodePoints(emoji, 5);
    expect(cut).toBe(`${'\u{1f600}'.repeat(4)}…`);
    expect(/\p{Cs}/u.test(cut)).toBe(false);
  });

  it('leaves a value at the cap alone', () => {
    expect(truncateCodePoints('abcde', 5)).toBe('abcde');
    expect(truncateCodePoints('\u{1f600}'.repeat(5), 5)).toBe('\u{1f600}'.repeat(5));
  });
});
