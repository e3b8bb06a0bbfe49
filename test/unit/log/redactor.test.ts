import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REDACTED, Redactor } from '../../../src/log/redactor.js';

describe('Redactor', () => {
  it('replaces every occurrence of every secret, longest first, and its JSON-escaped form', () => {
    const r = new Redactor();
    r.add('hunter2-canary');
    r.add('hunter2-canary-long');
    r.add('quo"te\\secret');
    expect(r.redact('a hunter2-canary-long b hunter2-canary c')).toBe(`a ${REDACTED} b ${REDACTED} c`);
    expect(r.redact(JSON.stringify({ x: 'quo"te\\secret' }))).toBe(`{"x":"${REDACTED}"}`);
  });
  it('redacts strings deep inside objects, keys included, and ignores too-short values', () => {
    const r = new Redactor();
    r.add('abc');
    r.add('s3cr3t-value');
    expect(r.redactDeep({ a: ['x s3cr3t-value'], 's3cr3t-value': 1, b: 'abc' })).toEqual({
      a: [`x ${REDACTED}`],
      [REDACTED]: 1,
      b: 'abc',
    });
  });
  it('never leaves a planted secret in any text (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(
        fc.string({ minLength: 6, maxLength: 30 }),
        fc.string(),
        fc.string(),
        (secret, before, after) => {
          // A "secret" spelled only with the letters of the marker could reappear inside it.
          fc.pre([...secret].some((ch) => !REDACTED.includes(ch)));
          runs += 1;
          const r = new Redactor();
          r.add(secret);
          expect(r.redact(before + secret + after).includes(secret)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
    console.log(`redactor property: ${runs} runs`);
  });
});
