import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeText,
  isFormatCharacter,
  isUnsafeCodePoint,
  unescapeText,
} from '../../../src/contracts/escape-text.js';
import { anyString, RAW_FORBIDDEN } from './arbitraries.js';

const RUNS = 5000;

describe('escapeText / unescapeText', () => {
  it.each([
    ['a\nb', 'a\\nb'],
    ['a\r\nb', 'a\\r\\nb'],
    ['tab\there', 'tab\\there'],
    ['back\\slash', 'back\\\\slash'],
    ['pipe|tick`lt<', 'pipe\\u{7c}tick\\u{60}lt\\u{3c}'],
    ['sep · dash –', 'sep \\u{b7} dash \\u{2013}'],
    ['greek\u0387dot', 'greek\\u{387}dot'],
    ['nul\u0000esc\u001bdel\u007fnel\u0085', 'nul\\u{0}esc\\u{1b}del\\u{7f}nel\\u{85}'],
    ['rlo\u202eabc\u202c', 'rlo\\u{202e}abc\\u{202c}'],
    [
      'isolates\u2066x\u2069 lrm\u200e rlm\u200f alm\u061c',
      'isolates\\u{2066}x\\u{2069} lrm\\u{200e} rlm\\u{200f} alm\\u{61c}',
    ],
    ['zw\u200b\u200c\u200d bom\ufeff shy\u00ad', 'zw\\u{200b}\\u{200c}\\u{200d} bom\\u{feff} shy\\u{ad}'],
    ['ls\u2028ps\u2029', 'ls\\u{2028}ps\\u{2029}'],
    ['lone\ud800 and \udc00', 'lone\\u{d800} and \\u{dc00}'],
    ['pair \u{1f600} stays', 'pair \u{1f600} stays'],
    ['tag \u{e0041}', 'tag \\u{e0041}'],
    ['nonchar \uffff', 'nonchar \\u{ffff}'],
    ['plain words: ok', 'plain words: ok'],
  ])('escapes %j as %j', (raw, escaped) => {
    expect(escapeText(raw)).toBe(escaped);
    expect(unescapeText(escaped)).toBe(raw);
  });

  it('keeps markdown structure characters in terminal mode but still escapes controls', () => {
    expect(escapeText('a|b`c<d·e–f\u001b[2J\u202e', 'terminal')).toBe('a|b`c<d·e–f\\u{1b}[2J\\u{202e}');
  });

  it.each(['\\', 'a\\', '\\x', '\\u', '\\u{', '\\u{}', '\\u{110000}', '\\u{ABC}', '\\u{1234567}'])(
    'rejects the malformed escape %j',
    (text) => {
      expect(unescapeText(text)).toBeNull();
    },
  );

  it('round-trips arbitrary strings, lone surrogates included', () => {
    let runs = 0;
    fc.assert(
      fc.property(anyString, (s) => {
        runs += 1;
        expect(unescapeText(escapeText(s))).toBe(s);
        expect(unescapeText(escapeText(s, 'terminal'))).toBe(s);
      }),
      { numRuns: RUNS },
    );
    console.log(`escape round trip: ${runs} runs`);
    expect(runs).toBe(RUNS);
  });

  it('never outputs a raw control, format character, separator, lone surrogate or line-structure character', () => {
    let runs = 0;
    fc.assert(
      fc.property(anyString, (s) => {
        runs += 1;
        const line = escapeText(s);
        expect(line).not.toMatch(RAW_FORBIDDEN);
        expect(line).not.toMatch(/[|`<·\u0387–]/u);
        const terminal = escapeText(s, 'terminal');
        expect(terminal).not.toMatch(RAW_FORBIDDEN);
      }),
      { numRuns: RUNS },
    );
    console.log(`escape output safety: ${runs} runs`);
  });

  it('is injective: different strings never escape alike', () => {
    fc.assert(
      fc.property(anyString, anyString, (a, b) => {
        fc.pre(a !== b);
        expect(escapeText(a)).not.toBe(escapeText(b));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('the pinned table of format characters', () => {
  const runtimeCf: number[] = [];
  for (let cp = 0; cp <= 0x10ffff; cp += 1) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    if (/\p{Cf}/u.test(String.fromCodePoint(cp))) runtimeCf.push(cp);
  }

  it(`covers every Cf code point this runtime knows (Unicode ${process.versions.unicode})`, () => {
    // If this fails after a Node upgrade, add the new ranges under a new format version (see escape.ts).
    expect(runtimeCf.filter((cp) => !isFormatCharacter(cp)).map((cp) => cp.toString(16))).toEqual([]);
  });

  it('holds nothing the runtime does not call Cf', () => {
    let listed = 0;
    for (let cp = 0; cp <= 0x10ffff; cp += 1) if (isFormatCharacter(cp)) listed += 1;
    expect(listed).toBe(runtimeCf.length);
  });

  it('marks every C0/C1 control, separator, surrogate and noncharacter unsafe, and ordinary text safe', () => {
    for (const cp of [
      0x0, 0x1f, 0x7f, 0x80, 0x9f, 0x2028, 0x2029, 0xd800, 0xdfff, 0xfdd0, 0xfffe, 0x10ffff,
    ]) {
      expect(isUnsafeCodePoint(cp), cp.toString(16)).toBe(true);
    }
    for (const cp of [0x20, 0x41, 0x7e, 0xa0, 0xe9, 0x4e2d, 0x1f600])
      expect(isUnsafeCodePoint(cp)).toBe(false);
  });
});
