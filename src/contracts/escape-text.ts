/**
 * Escaping that keeps any value on one line and visible as what it is. Pure. The one escaping of
 * every sink: run-log lines (`line`), Helm's JSON log on stdout and in its file, `helm log`, and the
 * values a message quotes (`terminal`).
 *
 * Escapes: `\\`, `\n`, `\r`, `\t`, and `\u{hex}` (lowercase hex, no leading zeros) for everything else
 * that must not appear raw: C0/C1 controls, Unicode format characters (Cf: bidi controls, zero-width
 * characters, BOM, …), line/paragraph separators, lone surrogates, noncharacters, and — in run-log lines
 * only — the characters the line format or a markdown viewer would read as structure.
 */

/**
 * The Cf (format) code points of Unicode 17, pinned here rather than read from `\p{Cf}` so that the
 * escaped form of a line — and so whether an old line verifies — does not change with the Node version.
 * A unit test fails when the runtime knows Cf characters this table lacks; extend it with a new format
 * version, never in place.
 */
const FORMAT_CHARACTER_RANGES: readonly (readonly [number, number])[] = [
  [0xad, 0xad],
  [0x600, 0x605],
  [0x61c, 0x61c],
  [0x6dd, 0x6dd],
  [0x70f, 0x70f],
  [0x890, 0x891],
  [0x8e2, 0x8e2],
  [0x180e, 0x180e],
  [0x200b, 0x200f],
  [0x202a, 0x202e],
  [0x2060, 0x2064],
  [0x2066, 0x206f],
  [0xfeff, 0xfeff],
  [0xfff9, 0xfffb],
  [0x110bd, 0x110bd],
  [0x110cd, 0x110cd],
  [0x13430, 0x1343f],
  [0x1bca0, 0x1bca3],
  [0x1d173, 0x1d17a],
  [0xe0001, 0xe0001],
  [0xe0020, 0xe007f],
];

/**
 * Characters that are harmless in a terminal but structure in a run-log line: `|` and backtick (tables,
 * code spans), `<` (an HTML comment or tag would hide the lines after it in a markdown viewer), `·` and
 * its canonical equivalent U+0387 (our field separator; NFC turns U+0387 into `·`), and `–` (our "none").
 */
const LINE_STRUCTURE = new Set([0x7c, 0x60, 0x3c, 0xb7, 0x387, 0x2013]);

const SHORT_ESCAPES = new Map<number, string>([
  [0x5c, '\\\\'],
  [0x0a, '\\n'],
  [0x0d, '\\r'],
  [0x09, '\\t'],
]);

export function isFormatCharacter(cp: number): boolean {
  if (cp < 0xad) return false;
  for (const [from, to] of FORMAT_CHARACTER_RANGES) {
    if (cp < from) return false;
    if (cp <= to) return true;
  }
  return false;
}

function isNoncharacter(cp: number): boolean {
  return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

/** Code points that may never appear raw, neither in a run-log line nor on a terminal. */
export function isUnsafeCodePoint(cp: number): boolean {
  return (
    cp <= 0x1f ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    (cp >= 0xd800 && cp <= 0xdfff) ||
    isNoncharacter(cp) ||
    isFormatCharacter(cp)
  );
}

/** `line`: for a run-log field (also escapes the line's structure characters). `terminal`: for showing to people. */
export type EscapeMode = 'line' | 'terminal';

export function escapeText(value: string, mode: EscapeMode = 'line'): string {
  let out = '';
  // for…of walks code points; a lone surrogate comes out as a one-unit string.
  for (const ch of value) {
    const cp = ch.codePointAt(0)!;
    const short = SHORT_ESCAPES.get(cp);
    if (short !== undefined) out += short;
    else if (isUnsafeCodePoint(cp) || (mode === 'line' && LINE_STRUCTURE.has(cp))) out += codePointEscape(cp);
    else out += ch;
  }
  return out;
}

export function codePointEscape(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/**
 * Reverses `escapeText`. Returns null for a malformed escape. It accepts escapes `escapeText` would not
 * have written (`\u{61}`); callers that need the canonical form compare against a re-escape.
 */
export function unescapeText(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const slash = text.indexOf('\\', i);
    if (slash === -1) return out + text.slice(i);
    out += text.slice(i, slash);
    const kind = text[slash + 1];
    if (kind === 'n') out += '\n';
    else if (kind === 'r') out += '\r';
    else if (kind === 't') out += '\t';
    else if (kind === '\\') out += '\\';
    else if (kind === 'u') {
      const match = /^\{([0-9a-f]{1,6})\}/.exec(text.slice(slash + 2, slash + 10));
      if (!match) return null;
      const cp = Number.parseInt(match[1]!, 16);
      if (cp > 0x10ffff) return null;
      out += String.fromCodePoint(cp);
      i = slash + 2 + match[0].length;
      continue;
    } else return null;
    i = slash + 2;
  }
  return out;
}
