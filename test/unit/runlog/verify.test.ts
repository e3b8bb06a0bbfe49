import { describe, expect, it } from 'vitest';
import {
  genesisMac,
  deriveRunLogKeys,
  type HeadRecord,
  sealEntries,
  signHead,
} from '../../../src/runlog/chain.js';
import type { RunLogDraft, RunLogEntry } from '../../../src/runlog/entry.js';
import { formatEntryLine, renderHeader } from '../../../src/runlog/line-format.js';
import { verifyRunLog } from '../../../src/runlog/verify.js';

const KEY = Buffer.alloc(32, 1);
const OTHER_KEY = Buffer.alloc(32, 2);
const CHAIN = '0f0e0d0c-0b0a-4908-8706-050403020100';

function draft(i: number): RunLogDraft {
  return {
    at: new Date(Date.UTC(2026, 10, 29, 17, 0, i)).toISOString(),
    event: i % 2 ? 'executing' : 'executed',
    job_id: String(i),
    request_id: `forge:${i}`,
    action: 'restart',
    target: 'web',
    environment: 'staging',
    approval_id: null,
    code: null,
    message: `step ${i}\u202e with a bidi control and a lone surrogate \ud800`,
  };
}

/** A whole log as Helm would write it, built from the pure parts. */
function buildLog(key: Buffer, count: number): { text: string; entries: RunLogEntry[]; head: HeadRecord } {
  const keys = deriveRunLogKeys(key);
  const entries = sealEntries(
    keys,
    { seq: 0, mac: genesisMac(keys, CHAIN, 1) },
    Array.from({ length: count }, (_, i) => draft(i + 1)),
  );
  const text = renderHeader(CHAIN, 1) + entries.map((e) => `${formatEntryLine(e)}\n`).join('');
  const last = entries[entries.length - 1]!;
  return { text, entries, head: signHead(keys, CHAIN, { seq: last.seq, mac: last.mac }) };
}

/** The header takes 10 lines, so entry #n sits on line 10 + n. */
const lineOf = (seq: number) => 10 + seq;

function editLines(text: string, edit: (lines: string[]) => void): string {
  const lines = text.split('\n');
  edit(lines);
  return lines.join('\n');
}

describe('verifyRunLog', () => {
  const log = buildLog(KEY, 6);

  it('accepts an intact log and returns its entries', () => {
    const result = verifyRunLog(log.text, KEY, { head: log.head });
    expect(result.problems).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.entries).toEqual(log.entries);
    expect(result.chainId).toBe(CHAIN);
    expect(result.end).toEqual({ seq: 6, mac: log.entries[5]!.mac });
  });

  it('accepts a log with no entries yet', () => {
    const keys = deriveRunLogKeys(KEY);
    const head = signHead(keys, CHAIN, { seq: 0, mac: genesisMac(keys, CHAIN, 1) });
    expect(verifyRunLog(renderHeader(CHAIN, 1), KEY, { head }).ok).toBe(true);
  });

  it('detects an edited line, and only that line', () => {
    const edited = formatEntryLine({ ...log.entries[2]!, message: 'nothing happened here' });
    const text = editLines(log.text, (l) => {
      l[lineOf(3) - 1] = edited;
    });
    const result = verifyRunLog(text, KEY, { head: log.head });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      { line: lineOf(3), reason: expect.stringMatching(/^mac does not match/) },
    ]);
  });

  it('detects an edited field other than the message (time, seq-neutral)', () => {
    const edited = formatEntryLine({ ...log.entries[3]!, environment: 'production' });
    const text = editLines(log.text, (l) => {
      l[lineOf(4) - 1] = edited;
    });
    expect(verifyRunLog(text, KEY).problems.map((p) => p.line)).toEqual([lineOf(4)]);
  });

  it('detects two lines swapped', () => {
    const text = editLines(log.text, (l) => {
      [l[lineOf(2) - 1], l[lineOf(3) - 1]] = [l[lineOf(3) - 1]!, l[lineOf(2) - 1]!];
    });
    const result = verifyRunLog(text, KEY, { head: log.head });
    expect(result.ok).toBe(false);
    const lines = new Set(result.problems.map((p) => p.line));
    // Both moved lines, and the link from the second of them to the line after it.
    expect(lines).toEqual(new Set([lineOf(2), lineOf(3), lineOf(4)]));
    expect(result.problems.some((p) => /sequence number is #3 where #2 was expected/.test(p.reason))).toBe(
      true,
    );
  });

  it('detects a deleted middle line', () => {
    const text = editLines(log.text, (l) => {
      l.splice(lineOf(3) - 1, 1);
    });
    const result = verifyRunLog(text, KEY, { head: log.head });
    expect(result.problems).toEqual([
      { line: lineOf(3), reason: expect.stringMatching(/#4 where #3 was expected: a line was deleted/) },
      { line: lineOf(3), reason: expect.stringMatching(/^mac does not match/) },
    ]);
  });

  it('detects a deleted last line through the head record, which the text alone cannot show', () => {
    const text = editLines(log.text, (l) => {
      l.splice(lineOf(6) - 1, 1);
    });
    expect(verifyRunLog(text, KEY).ok).toBe(true);
    const result = verifyRunLog(text, KEY, { head: log.head });
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([
      {
        line: lineOf(6),
        reason: expect.stringMatching(
          /reached #6 but the last line is #5: 1 line\(s\) at the end were deleted/,
        ),
      },
    ]);
  });

  it('detects a deleted last line when the head file is gone too', () => {
    const text = editLines(log.text, (l) => {
      l.splice(lineOf(6) - 1, 1);
    });
    const result = verifyRunLog(text, KEY, { head: null });
    expect(result.problems).toEqual([{ line: 0, reason: expect.stringMatching(/head file is missing/) }]);
  });

  it('detects a head record rewritten without the key', () => {
    const forged = signHead(deriveRunLogKeys(OTHER_KEY), CHAIN, { seq: 5, mac: log.entries[4]!.mac });
    const text = editLines(log.text, (l) => {
      l.splice(lineOf(6) - 1, 1);
    });
    expect(verifyRunLog(text, KEY, { head: forged }).problems).toEqual([
      { line: 0, reason: 'the head record was changed or written without the run-log key' },
    ]);
    expect(verifyRunLog(log.text, KEY, { head: { ...log.head, seq: 5 } }).ok).toBe(false);
  });

  it('accepts a head one batch behind the last line (a crash between the sync and the head rename)', () => {
    const keys = deriveRunLogKeys(KEY);
    const behind = signHead(keys, CHAIN, { seq: 4, mac: log.entries[3]!.mac });
    expect(verifyRunLog(log.text, KEY, { head: behind }).ok).toBe(true);
    const wrongPin = signHead(keys, CHAIN, { seq: 4, mac: log.entries[2]!.mac });
    expect(verifyRunLog(log.text, KEY, { head: wrongPin }).problems[0]!.reason).toMatch(
      /not the one the head record pinned/,
    );
  });

  it('detects a line appended by someone without the key', () => {
    const attacker = deriveRunLogKeys(OTHER_KEY);
    const last = log.entries[5]!;
    const [forged] = sealEntries(attacker, { seq: last.seq, mac: last.mac }, [
      { ...draft(7), event: 'approved', message: 'owner approved the deploy' },
    ]);
    const result = verifyRunLog(`${log.text}${formatEntryLine(forged!)}\n`, KEY, { head: log.head });
    expect(result.problems).toEqual([
      { line: lineOf(7), reason: expect.stringMatching(/^mac does not match/) },
    ]);
  });

  it('detects a file re-chained without the key, and verifies it only under the key it was chained with', () => {
    const rechained = buildLog(OTHER_KEY, 6);
    const result = verifyRunLog(rechained.text, KEY, { head: rechained.head });
    expect(result.ok).toBe(false);
    expect(result.problems.filter((p) => /^mac does not match/.test(p.reason))).toHaveLength(6);
    expect(
      result.problems.some((p) =>
        /head record was changed or written without the run-log key/.test(p.reason),
      ),
    ).toBe(true);
    expect(verifyRunLog(rechained.text, OTHER_KEY, { head: rechained.head }).ok).toBe(true);
  });

  it('detects a changed chain id in the header (the first mac is bound to it)', () => {
    const other = '11111111-2222-4333-8444-555555555555';
    const text = log.text.replace(renderHeader(CHAIN, 1), renderHeader(other, 1));
    const result = verifyRunLog(text, KEY);
    expect(result.problems).toEqual([
      { line: lineOf(1), reason: expect.stringMatching(/^mac does not match/) },
    ]);
  });

  it('detects a changed header and a missing one', () => {
    expect(verifyRunLog(log.text.replace('Never edit', 'Do edit'), KEY).problems).toEqual([
      { line: 1, reason: 'the header was changed' },
    ]);
    expect(verifyRunLog('', KEY).ok).toBe(false);
  });

  it('detects a raw bidi control put where Helm wrote its escape (same meaning, different bytes)', () => {
    const text = log.text.replace('\\u{202e}', '\u202e');
    expect(verifyRunLog(text, KEY).problems).toEqual([
      { line: lineOf(1), reason: expect.stringMatching(/not written the way Helm writes it/) },
    ]);
  });

  it('detects inserted text and blank lines among the entries', () => {
    const text = editLines(log.text, (l) => {
      l.splice(lineOf(2), 0, 'I was here', '');
    });
    expect(verifyRunLog(text, KEY).problems).toEqual([
      { line: lineOf(3), reason: 'not a run-log entry' },
      { line: lineOf(4), reason: 'blank line among the entries' },
    ]);
  });

  it('detects a cut-off last line', () => {
    const result = verifyRunLog(log.text.slice(0, -20), KEY);
    expect(result.problems.at(-1)).toEqual({
      line: lineOf(6),
      reason: expect.stringMatching(/last line is incomplete/),
    });
  });

  it('refuses a key too short to be one', () => {
    expect(() => verifyRunLog(log.text, Buffer.alloc(4))).toThrow(TypeError);
  });
});
