/** fast-check arbitraries for run-log entries, biased toward the characters that could break a line. */
import fc from 'fast-check';
import type { RunLogEntry } from '../../../src/runlog/entry.js';

/** Any UTF-16 code unit, so lone surrogates occur (the 'binary' unit only makes well-formed strings). */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));

/** Pieces a hostile or unlucky value might contain. */
const tricky = fc.constantFrom(
  '·',
  ' · ',
  '\u0387',
  '–',
  '|',
  '`',
  '\\',
  '\\n',
  '\\u{41}',
  '\\u{',
  '\n',
  '\r',
  '\r\n',
  '\t',
  '"',
  '""',
  '<!--',
  '#',
  '- ',
  'mac ',
  'job ',
  ' ',
  'null',
  '\u0000',
  '\u001b[31m',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u00ad',
  '\u061c',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u200f',
  '\u2028',
  '\u2029',
  '\u202a',
  '\u202e',
  '\u2066',
  '\u2069',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\u{e0041}',
  '\u{1f600}',
  '\u{10ffff}',
);

export const anyString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: codeUnit, maxLength: 60 }),
  fc.string({ unit: fc.oneof(tricky, fc.string({ unit: 'binary', maxLength: 2 }), codeUnit), maxLength: 30 }),
  fc.constantFrom('', 'null', '–', '""', '\\u{22}"', '\\', ' ', '·', '"', '\u{22}\u{22}\u{22}'),
);

export const nullableString: fc.Arbitrary<string | null> = fc.option(anyString, { nil: null, freq: 4 });

export const eventName = fc.stringMatching(/^[a-z][a-z_]{0,39}$/);

export const isoTime = fc
  .date({
    min: new Date('0000-01-01T00:00:00.000Z'),
    max: new Date('9999-12-31T23:59:59.999Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());

export const macHex = fc
  .uint8Array({ minLength: 32, maxLength: 32 })
  .map((b) => Buffer.from(b).toString('hex'));

export const entry: fc.Arbitrary<RunLogEntry> = fc.record({
  seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  at: isoTime,
  event: eventName,
  job_id: nullableString,
  request_id: nullableString,
  action: nullableString,
  target: nullableString,
  environment: nullableString,
  approval_id: nullableString,
  code: nullableString,
  message: anyString,
  mac: macHex,
});

/** Characters that must never appear raw in a formatted line (Cs: a lone surrogate, in a /u regex). */
export const RAW_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
