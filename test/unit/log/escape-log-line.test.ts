import { describe, expect, it } from 'vitest';
import { escapeLogLine } from '../../../src/log/escape-log-line.js';
import { escapeText, unescapeText } from '../../../src/contracts/escape-text.js';

const line = (o: object) => `${JSON.stringify(o)}\n`;

describe('escapeLogLine', () => {
  it('leaves a line with nothing to escape as it is', () => {
    const plain = line({ level: 30, msg: 'request ended', target: 'web' });
    expect(escapeLogLine(plain)).toBe(plain);
  });

  it("writes every string (keys too) as the run log's escapeText shows it, and stays one JSON line", () => {
    const hostile = 'a\u202Eb\u0007c\u009bd\u2028e\\f\ng';
    const out = escapeLogLine(line({ msg: hostile, [`k\u200F`]: [hostile], n: 1 }));
    expect(out.endsWith('\n')).toBe(true);
    expect(out.slice(0, -1)).not.toContain('\n');
    expect(out).not.toMatch(/[\u202E\u0007\u009b\u2028\u200F]/u);
    const parsed = JSON.parse(out) as Record<string, unknown>;
    expect(parsed['msg']).toBe(escapeText(hostile, 'terminal'));
    expect(parsed[escapeText('k\u200F', 'terminal')]).toEqual([escapeText(hostile, 'terminal')]);
    expect(unescapeText(parsed['msg'] as string)).toBe(hostile);
    expect(parsed['n']).toBe(1);
  });
});
