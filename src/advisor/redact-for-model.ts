// Masking before anything leaves Helm for a model. Three sources are masked wherever they appear, even
// embedded in other text, repeated or overlapping one another:
//   - the values of the container's env vars and of the owner's secret store (known values), also in
//     their JSON-escaped, URL-encoded and fence-sanitised spellings;
//   - common token shapes: PEM private keys, AWS access key ids, GitHub and Slack tokens, JWTs,
//     `Bearer …`, `password=…`/`token: …` pairs, credentials in URLs, long hex and high-entropy base64.
// Each distinct original gets one mask, `[masked-<call nonce>-<n>]`, so the model can still see that two
// places hold the same value. The mask table (mask → original) stays on Helm's side: `unmask` is for
// what Helm shows the owner, never for what goes to a model. The nonce keeps a mask-shaped string
// written by a container from being unmasked into a secret.
//
// Threshold: known values shorter than 6 code points are not masked. Env values such as "1", "true",
// "info" or "8080" would otherwise mask every such word or digit run in the evidence and leave nothing
// to diagnose; 6 is also Helm's log redactor's minimum (src/log/redactor.ts), which the secret store
// enforces, so what Helm's logs hide the model never sees and the other way round. For the same reason
// a few container env values that are plainly configuration words (booleans, environment names, log
// levels, loopback addresses) are not masked; an owner's secret-store value is always masked.
//
// Should masking itself ever form a known value (a value that is part of a mask's spelling), the whole
// text is replaced by WITHHELD, which is shorter than the threshold: nothing leaks, and the caller sees
// the text was withheld.
import { randomBytes } from 'node:crypto';
import { codePointLength } from '../contracts/index.js';
import { sanitiseUntrusted } from './fence-untrusted.js';

export const MIN_MASKED_VALUE_LENGTH = 6;
export const WITHHELD = '[---]';

/** Container env values that are configuration words, not secrets (compared case-insensitively). */
export const PLAIN_ENV_VALUES: ReadonlySet<string> = new Set([
  'true',
  'false',
  'enabled',
  'disabled',
  'production',
  'staging',
  'development',
  'debug',
  'warning',
  'localhost',
  '0.0.0.0',
  '127.0.0.1',
]);

export interface RedactionSources {
  /** The container's env values (NAME=value: the values). */
  envValues?: Iterable<string>;
  /** The owner's secret-store values: masked whatever they look like (at or above the threshold). */
  secretValues?: Iterable<string>;
  /** Values Helm knows are not secret (container id, image ids): never masked for their shape alone. */
  publicValues?: Iterable<string>;
}

/** mask → original. Kept only on Helm's side. */
export type MaskTable = ReadonlyMap<string, string>;

export interface ModelRedactor {
  readonly redact: (text: string) => string;
  readonly table: MaskTable;
}

interface TokenShape {
  name: string;
  /** Global with indices (`gd`); a named group `s`, when present, is the part to mask. */
  pattern: RegExp;
  accept?: (match: string, before: string) => boolean;
}

const TOKEN_SHAPES: readonly TokenShape[] = [
  {
    name: 'pem private key',
    pattern: /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/dg,
  },
  { name: 'aws access key id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA|AROA|AIDA)[0-9A-Z]{16}\b/dg },
  { name: 'github token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})/dg },
  { name: 'slack token', pattern: /\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]{10,}/dg },
  { name: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/dg },
  { name: 'bearer', pattern: /\b(?:Bearer|Basic|Token)\s+(?<s>[A-Za-z0-9._~+/=-]{8,})/dgi },
  {
    name: 'secret pair',
    pattern:
      /(?:pass(?:word|wd)?|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)[A-Za-z0-9_.-]*["']?\s*[:=]\s*["']?(?<s>[^\s"'&,;]+)/dgi,
  },
  { name: 'url credentials', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/]+:(?<s>[^\s@/]+)@/dgi },
  {
    name: 'long hex',
    pattern: /(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])/dg,
    // A content address (image id, digest) names an image; it is not a secret.
    accept: (_match, before) => !before.endsWith('sha256:'),
  },
  {
    name: 'high-entropy base64',
    pattern: /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{32,}={0,2}/dg,
    accept: (match) =>
      /[A-Z]/.test(match) && /[a-z]/.test(match) && /[0-9]/.test(match) && entropy(match) >= 4,
  },
];

/** Shannon entropy in bits per character. */
function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= (n / s.length) * Math.log2(n / s.length);
  return bits;
}

/** The spellings under which a value can appear in evidence text. */
function spellings(value: string): string[] {
  const forms = [
    value,
    JSON.stringify(value).slice(1, -1),
    sanitiseUntrusted(value, { keepNewlines: true, keepTabs: true }),
    sanitiseUntrusted(value),
  ];
  try {
    forms.push(encodeURIComponent(value));
  } catch {
    // A lone surrogate cannot be URL-encoded, so it cannot appear URL-encoded either.
  }
  return forms.filter((f) => codePointLength(f) >= MIN_MASKED_VALUE_LENGTH);
}

function knownSpellings(sources: RedactionSources): string[] {
  const values = new Set<string>();
  const add = (value: string) => {
    if (codePointLength(value) < MIN_MASKED_VALUE_LENGTH) return;
    for (const form of spellings(value)) values.add(form);
  };
  for (const value of sources.secretValues ?? []) add(value);
  for (const value of sources.envValues ?? []) {
    if (!PLAIN_ENV_VALUES.has(value.toLowerCase())) add(value);
  }
  return [...values];
}

type Span = [start: number, end: number];

/** At most this many masking passes before the text is withheld (each pass masks more of it). */
const MAX_PASSES = 8;

export function createModelRedactor(
  sources: RedactionSources,
  nonce: string = randomBytes(6).toString('hex'),
): ModelRedactor {
  const known = knownSpellings(sources);
  const publicValues = [...(sources.publicValues ?? [])];
  const table = new Map<string, string>();
  const maskOf = new Map<string, string>();
  const maskPattern = new RegExp(`\\[masked-${nonce}-\\d+\\]`, 'g');

  const maskFor = (original: string): string => {
    let mask = maskOf.get(original);
    if (mask === undefined) {
      mask = `[masked-${nonce}-${table.size + 1}]`;
      maskOf.set(original, mask);
      table.set(mask, original);
    }
    return mask;
  };

  const sensitiveSpans = (text: string): Span[] => {
    const spans: Span[] = [];
    for (const value of known) {
      for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + 1)) {
        spans.push([at, at + value.length]);
      }
    }
    for (const shape of TOKEN_SHAPES) {
      for (const match of text.matchAll(shape.pattern)) {
        const [start, end] = match.indices?.groups?.['s'] ?? [match.index, match.index + match[0].length];
        const part = text.slice(start, end);
        if (part === '' || publicValues.some((p) => p.includes(part))) continue;
        if (shape.accept && !shape.accept(part, text.slice(Math.max(0, start - 16), start))) continue;
        spans.push([start, end]);
      }
    }
    return spans;
  };

  /** One pass: every sensitive span not already a mask, widened over the masks it touches, masked. */
  const maskOnce = (text: string): string | null => {
    const masks: Span[] = [...text.matchAll(maskPattern)].map((m) => [m.index, m.index + m[0].length]);
    const spans = sensitiveSpans(text)
      .filter(([s, e]) => !masks.some(([ms, me]) => ms <= s && e <= me))
      .map(([s, e]): Span => {
        for (const [ms, me] of masks) {
          if (ms < e && s < me) [s, e] = [Math.min(s, ms), Math.max(e, me)];
        }
        return [s, e];
      });
    if (spans.length === 0) return null;
    let out = '';
    let cursor = 0;
    for (const [start, end] of mergeSpans(spans)) {
      out += text.slice(cursor, start) + maskFor(unmaskWith(text.slice(start, end), table, maskPattern));
      cursor = end;
    }
    return out + text.slice(cursor);
  };

  const redact = (text: string): string => {
    let current = text;
    for (let pass = 0; pass < MAX_PASSES; pass++) {
      const next = maskOnce(current);
      if (next === null) {
        // Masks never split a known value, but one could be part of a mask's own spelling.
        return known.some((value) => current.includes(value)) ? WITHHELD : current;
      }
      current = next;
    }
    return WITHHELD;
  };

  return { redact, table };
}

function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const merged: Span[] = [];
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last && start < last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  return merged;
}

function unmaskWith(text: string, table: MaskTable, pattern: RegExp): string {
  return text.replace(pattern, (mask) => table.get(mask) ?? mask);
}

/** The text with every mask of `table` put back. Only for what Helm shows the owner. */
export function unmask(text: string, table: MaskTable): string {
  if (table.size === 0) return text;
  // One pass, so an original that happens to look like another mask is not unmasked again.
  const pattern = new RegExp([...table.keys()].map(escapeRegExp).join('|'), 'g');
  return unmaskWith(text, table, pattern);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
