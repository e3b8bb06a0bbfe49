/**
 * Glob patterns on container names, as the owner's classification writes them: `*` matches any run of
 * characters (also none), `?` exactly one, everything else itself; the whole name must match, case
 * counts. No character classes, no escapes: container names cannot contain `*`, `?` or `[`.
 */
export function globMatches(pattern: string, name: string): boolean {
  const p = Array.from(pattern);
  const s = Array.from(name);
  // Greedy with one backtrack point (the last `*`): linear for most patterns, O(p·s) at worst, never
  // exponential as a regex built from the pattern could be.
  let pi = 0;
  let si = 0;
  let star = -1;
  let starSi = 0;
  while (si < s.length) {
    if (pi < p.length && (p[pi] === '?' || (p[pi] !== '*' && p[pi] === s[si]))) {
      pi++;
      si++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      starSi = si;
    } else if (star !== -1) {
      pi = star + 1;
      si = ++starSi;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
