// The contract counts lengths in Unicode code points and requires well-formed strings; JavaScript
// strings are UTF-16, so neither `.length` nor zod's `.max()` measures what the contract means.

/** True when the string has no lone (unpaired) UTF-16 surrogate, i.e. it is well-formed Unicode. */
export function isWellFormedUnicode(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i++;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** Number of Unicode code points (a lone surrogate counts as one). */
export function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** The first `max` code points of `s`, never splitting a surrogate pair. */
export function takeCodePoints(s: string, max: number): string {
  if (s.length <= max) return s;
  let out = '';
  let n = 0;
  for (const cp of s) {
    if (n === max) break;
    out += cp;
    n++;
  }
  return out;
}

/** Size of the string once encoded as UTF-8 (what Redis stores and what a byte cap measures). */
export function utf8ByteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
