import { describe, expect, it } from 'vitest';
import { keepNewestWithin, mergeByTime } from '../../../src/actions/logs.js';
import { demuxDockerLogs } from '../../../src/docker/logs-demux.js';

function frame(stream: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

describe('demuxDockerLogs', () => {
  it('splits stdout and stderr frames into lines with their timestamps', () => {
    const bytes = Buffer.concat([
      frame(1, '2026-11-29T17:00:00.000000001Z hello\n'),
      frame(2, '2026-11-29T17:00:01.5Z oops\n2026-11-29T17:00:02Z again\n'),
      frame(1, '2026-11-29T17:00:03Z par'),
      frame(1, 'tial line\n'),
    ]);
    expect(demuxDockerLogs(bytes, false, 'web')).toEqual([
      { container: 'web', stream: 'stdout', at: '2026-11-29T17:00:00.000000001Z', text: 'hello' },
      { container: 'web', stream: 'stderr', at: '2026-11-29T17:00:01.5Z', text: 'oops' },
      { container: 'web', stream: 'stderr', at: '2026-11-29T17:00:02Z', text: 'again' },
      { container: 'web', stream: 'stdout', at: '2026-11-29T17:00:03Z', text: 'partial line' },
    ]);
  });
  it('reads a TTY container as raw stdout', () => {
    expect(
      demuxDockerLogs(Buffer.from('2026-11-29T17:00:00Z a\r\nb\n'), true, 'x').map((l) => l.text),
    ).toEqual(['a', 'b']);
  });
});

describe('keepNewestWithin / mergeByTime', () => {
  const line = (i: number) => ({
    container: 'c',
    stream: 'stdout' as const,
    at: `2026-11-29T17:00:${String(i).padStart(2, '0')}Z`,
    text: 'x'.repeat(100),
  });
  it('keeps the newest lines that fit and says it cut', () => {
    const lines = Array.from({ length: 50 }, (_, i) => line(i));
    const kept = keepNewestWithin(lines, 1500);
    expect(kept.truncated).toBe(true);
    expect(kept.lines.at(-1)).toEqual(lines.at(-1));
    expect(Buffer.byteLength(JSON.stringify(kept.lines))).toBeLessThanOrEqual(1500);
    expect(keepNewestWithin(lines.slice(0, 2), 1500)).toEqual({ lines: lines.slice(0, 2), truncated: false });
  });
  it('interleaves replicas by time', () => {
    const a = [line(1), line(3)].map((l) => ({ ...l, container: 'a' }));
    const b = [line(2)].map((l) => ({ ...l, container: 'b' }));
    expect(mergeByTime([a, b]).map((l) => l.container)).toEqual(['a', 'b', 'a']);
  });
});
