import { describe, expect, it } from 'vitest';
import type { RunLogEntry } from '../../../src/runlog/entry.js';
import { formatEntryForPeople } from '../../../src/runlog/render.js';

const entry: RunLogEntry = {
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
  mac: '0'.repeat(64),
};

describe('formatEntryForPeople', () => {
  it('says what happened in one line and leaves out what is none', () => {
    expect(formatEntryForPeople(entry)).toBe(
      '2026-11-29 17:06:10.123Z  #12  executed  health_check web  in production  job 7  req forge:42 — web is healthy',
    );
  });

  it('names the file of a merged entry and shows approval and code when present', () => {
    expect(
      formatEntryForPeople({ ...entry, approval_id: 'ap-1', code: 'E_HEALTH', file: 'run_log.gate.md' }),
    ).toBe(
      '[run_log.gate.md] 2026-11-29 17:06:10.123Z  #12  executed  health_check web  in production  job 7  req forge:42  approval ap-1  code E_HEALTH — web is healthy',
    );
  });

  it('escapes terminal control sequences and bidi controls but keeps ordinary punctuation', () => {
    const shown = formatEntryForPeople({ ...entry, message: 'a|b\u001b[2J\nc\u202ed', target: 'we\u0007b' });
    expect(shown).toContain('we\\u{7}b');
    expect(shown).toContain('a|b\\u{1b}[2J\\nc\\u{202e}d');
    expect(shown).not.toMatch(/[\p{Cc}\p{Cf}]/u);
  });
});
