import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, hashCanonical, sha256Hex } from '../../../src/contracts/index.js';

const RUNS = 5000;

/** JSON values a hashed object may hold: well-formed strings, safe integers, booleans, null, arrays, objects. */
const hashable = fc.letrec((tie) => ({
  value: fc.oneof(
    { maxDepth: 4 },
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.maxSafeInteger(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'binary', maxLength: 6 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** The same value with every object's keys in another order. */
function reorder(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => reorder(v, seed));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    const shuffled = entries
      .map((e, i) => ({ e, k: (i * 7919 + seed) % (entries.length + 1) }))
      .sort((a, b) => a.k - b.k);
    return Object.fromEntries(shuffled.reverse().map(({ e: [k, v] }) => [k, reorder(v, seed + 1)]));
  }
  return value;
}

describe('canonicalJson', () => {
  it('sorts keys by UTF-16 code units and writes integers plainly', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], '\u20ac': 2, '\ud83d\ude00': 3, '\ufb33': 4 })).toBe(
      '{"a":[true,null,"x"],"b":1,"€":2,"😀":3,"\ufb33":4}',
    );
    expect(canonicalJson({ n: 9007199254740991, m: -9007199254740991, z: -0 })).toBe(
      '{"m":-9007199254740991,"n":9007199254740991,"z":0}',
    );
  });

  it.each([
    [{ x: 1.5 }, 'canonical JSON refuses a non-integer number at x (hashed objects hold integers only)'],
    [{ x: 2 ** 53 }, 'canonical JSON refuses an integer beyond ±(2^53 − 1) at x'],
    [{ x: [1, undefined] }, 'canonical JSON refuses undefined at x[1]'],
    [{ x: undefined }, 'canonical JSON refuses undefined at x'],
    [undefined, 'canonical JSON refuses undefined at the top level'],
    [{ x: 'a\ud800' }, 'canonical JSON refuses a lone surrogate at x'],
    [{ 'a\udc00': 1 }, 'canonical JSON refuses a key with a lone surrogate at the top level'],
    [{ x: new Date(0) }, 'canonical JSON refuses a non-plain object at x (e.g. a Date, Map or Buffer)'],
    [
      { x: Number.NaN },
      'canonical JSON refuses a non-integer number at x (hashed objects hold integers only)',
    ],
    [{ x: 1n }, 'canonical JSON refuses a bigint at x'],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    [[1, , 3], 'canonical JSON refuses an empty array slot at [1]'],
  ])('refuses %s', (value, message) => {
    expect(() => canonicalJson(value)).toThrow(new CanonicalJsonError(message));
  });

  it('refuses cycles', () => {
    const a: Record<string, unknown> = {};
    a['a'] = a;
    expect(() => canonicalJson(a)).toThrow(CanonicalJsonError);
  });

  it('hashes the UTF-8 bytes of the canonical form', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(hashCanonical({ b: 'é', a: 1 })).toBe(sha256Hex(Buffer.from('{"a":1,"b":"é"}', 'utf8')));
  });

  it(`is idempotent and independent of key order (${RUNS} runs)`, () => {
    let runs = 0;
    fc.assert(
      fc.property(hashable, fc.nat(), (value, seed) => {
        runs++;
        const once = canonicalJson(value);
        expect(canonicalJson(JSON.parse(once))).toBe(once);
        expect(canonicalJson(reorder(value, seed))).toBe(once);
        expect(JSON.parse(once)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: RUNS },
    );
    console.log(`[property] canonicalJson idempotent and key-order independent: ${runs} runs`);
    expect(runs).toBe(RUNS);
  });
});
