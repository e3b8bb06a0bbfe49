import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RunLogEntry } from '../../../src/runlog/entry.js';
import {
  formatEntryLine,
  parseEntryLine,
  parseHeader,
  renderHeader,
} from '../../../src/runlog/line-format.js';
import { entry as anyEntry, RAW_FORBIDDEN } from './arbitraries.js';

const RUNS = 10_000;
const MAC = '3f2a'.padEnd(64, '0');
const CHAIN = '0f0e0d0c-0b0a-4908-8706-050403020100';

const sample: RunLogEntry = {
  seq: 12,
  at: '2026-11-29T17:06:10.123Z',
  event: 'executed',
  job_id: '7',
  request_id: 'forge:42',
  action: 'health_check',
  target: 'web',
  environment: 'production',
  approval_id: null,
  code: null,
  message: 'web is healthy',
  mac: MAC,
};

describe('formatEntryLine', () => {
  it('writes one readable markdown list item', () => {
    expect(formatEntryLine(sample)).toBe(
      '- 2026-11-29T17:06:10.123Z · #12 · executed · job 7 · req forge:42 · action health_check · target web' +
        ` · env production · approval – · code – · web is healthy · mac ${MAC}`,
    );
  });

  it('keeps null, "null", "–", "" and the literal "" apart', () => {
    const line = formatEntryLine({
      ...sample,
      job_id: null,
      request_id: 'null',
      action: '–',
      target: '',
      environment: '""',
      message: '',
    });
    expect(line).toContain(
      ' · job – · req null · action \\u{2013} · target "" · env \\u{22}" · approval – · code – · "" · mac ',
    );
  });

  it('escapes a message that tries to start a new entry or hide the rest of the file', () => {
    const line = formatEntryLine({
      ...sample,
      message: `ok\n- 2026-11-29T17:06:10.123Z · #13 · executed <!--`,
    });
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toContain('ok\\n- 2026-11-29T17:06:10.123Z \\u{b7} #13 \\u{b7} executed \\u{3c}!--');
  });
});

describe('parseEntryLine', () => {
  it('reads the sample back', () => {
    expect(parseEntryLine(formatEntryLine(sample))).toEqual({ ok: true, entry: sample });
  });

  it(`round-trips arbitrary entries exactly (${RUNS} runs)`, () => {
    let runs = 0;
    fc.assert(
      fc.property(anyEntry, (entry) => {
        runs += 1;
        const parsed = parseEntryLine(formatEntryLine(entry));
        expect(parsed).toEqual({ ok: true, entry });
        if (parsed.ok) {
          // toEqual treats these alike only if they are; spell out the three that must never merge.
          for (const key of ['job_id', 'request_id', 'code'] as const)
            expect(parsed.entry[key]).toBe(entry[key]);
        }
      }),
      { numRuns: RUNS },
    );
    console.log(`line round trip: ${runs} runs`);
    expect(runs).toBe(RUNS);
  });

  it(`never leaves a raw newline or unescaped control/format character in a line (${RUNS} runs)`, () => {
    let runs = 0;
    fc.assert(
      fc.property(anyEntry, (entry) => {
        runs += 1;
        const line = formatEntryLine(entry);
        expect(line).not.toMatch(RAW_FORBIDDEN);
        expect(line).not.toMatch(/[|`<]/);
        expect(line.startsWith('- ')).toBe(true);
        // Exactly the 11 separators of the format: no value adds one.
        expect(line.split('·')).toHaveLength(12);
      }),
      { numRuns: RUNS },
    );
    console.log(`line safety: ${runs} runs`);
    expect(runs).toBe(RUNS);
  });

  it.each([
    ['a line that is not an entry', 'hello', /not a run-log entry/],
    ['a missing field', formatEntryLine(sample).replace(' · code –', ''), /fields/],
    ['a wrong label', formatEntryLine(sample).replace('job 7', 'jab 7'), /should start with "job"/],
    ['a bad time', formatEntryLine(sample).replace('17:06:10.123Z', '17:06:10Z'), /RFC 3339/],
    ['an impossible date', formatEntryLine(sample).replace('2026-11-29', '2026-02-30'), /RFC 3339/],
    ['a bad seq', formatEntryLine(sample).replace('#12', '#012'), /sequence/],
    ['a bad event', formatEntryLine(sample).replace('executed', 'Executed'), /event/],
    ['a bad mac', formatEntryLine(sample).replace(`mac ${MAC}`, 'mac xyz'), /mac/],
    ['a broken escape', formatEntryLine(sample).replace('web is healthy', 'web \\q'), /malformed escape/],
    ['a null message', formatEntryLine(sample).replace('web is healthy', '–'), /never none/],
    ['a squeezed separator', formatEntryLine(sample).replace(' · req', '· req'), /separator/],
    [
      'a raw bidi control where Helm writes an escape',
      formatEntryLine({ ...sample, message: 'a\u202eb' }).replace('\\u{202e}', '\u202e'),
      /not written the way Helm writes it/,
    ],
    [
      'a needless escape',
      formatEntryLine(sample).replace('web is healthy', 'web is \\u{68}ealthy'),
      /not written the way Helm writes it/,
    ],
    ['a trailing carriage return', `${formatEntryLine(sample)}\r`, /mac is malformed/],
  ])('rejects %s', (_name, line, reason) => {
    const parsed = parseEntryLine(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(reason);
  });
});

describe('header', () => {
  it('records the format and chain id, and reads them back', () => {
    const header = renderHeader(CHAIN, 1);
    expect(header.startsWith('# Helm run log\n')).toBe(true);
    expect(header).toContain(`format helm-run-log/1 · chain ${CHAIN} · first seq 1\n`);
    expect(header).toMatch(/HMAC/);
    expect(parseHeader(`${header}- rest`)).toEqual({
      ok: true,
      chainId: CHAIN,
      firstSeq: 1,
      previousMac: null,
      lineCount: header.split('\n').length - 1,
      length: header.length,
    });
  });

  it('records the previous mac of a file that continues a rotated one, and reads it back', () => {
    const mac = 'ab'.repeat(32);
    const header = renderHeader(CHAIN, 42, mac);
    expect(header).toContain(`format helm-run-log/1 · chain ${CHAIN} · first seq 42 · previous mac ${mac}\n`);
    expect(parseHeader(header)).toMatchObject({ ok: true, firstSeq: 42, previousMac: mac });
    expect(parseHeader(header.replace(mac, 'cd'.repeat(32)))).toMatchObject({
      ok: true,
      previousMac: 'cd'.repeat(32),
    });
    expect(
      parseHeader(header.replace(` · previous mac ${mac}`, ` · previous mac ${mac.slice(2)}`)),
    ).toMatchObject({
      ok: false,
    });
  });

  it('refuses a header that was changed or has no chain line', () => {
    expect(parseHeader(renderHeader(CHAIN, 1).replace('Never edit', 'Feel free to edit'))).toEqual({
      ok: false,
      reason: 'the header was changed',
    });
    expect(parseHeader('# Helm run log\n\n').ok).toBe(false);
  });
});
