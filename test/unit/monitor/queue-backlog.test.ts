import { describe, expect, it } from 'vitest';
import type { QueueSample } from '../../../src/bus/queue-health.js';
import { type BacklogPhase, judgeBacklog } from '../../../src/monitor/queue-backlog.js';

/** Feeds waiting counts (consumers as given, default 1); returns the emits, `.` for none. */
function feed(waiting: number[], consumers = 1): string {
  const samples: QueueSample[] = [];
  let phase: BacklogPhase = 'ok';
  return waiting
    .map((w, i) => {
      samples.push({ at: i * 1000, waiting: w, consumers });
      const r = judgeBacklog('helm.actions', phase, samples);
      phase = r.phase;
      return r.emit === 'degraded' ? 'D' : r.emit === 'drained' ? 'R' : '.';
    })
    .join('');
}

describe('judgeBacklog: helm_degraded when helm.actions keeps growing', () => {
  it.each([
    { name: 'empty', waiting: [0, 0, 0, 0, 0], want: '.....' },
    { name: 'steady backlog', waiting: [50, 50, 50, 50, 50], want: '.....' },
    { name: 'growing below the floor', waiting: [1, 2, 3, 4, 5], want: '.....' },
    { name: 'growing above the floor', waiting: [10, 12, 14, 16], want: '...D' },
    { name: 'one dip is not growth', waiting: [10, 12, 11, 14, 16], want: '.....' },
    { name: 'fires once while it grows', waiting: [10, 12, 14, 16, 18, 20], want: '...D..' },
    { name: 'stays degraded while above the floor', waiting: [10, 12, 14, 16, 15, 11], want: '...D..' },
    { name: 'drained below the floor', waiting: [10, 12, 14, 16, 3], want: '...DR' },
    { name: 'again after draining', waiting: [10, 12, 14, 16, 0, 11, 12, 13, 14], want: '...DR..D.' },
  ])('$name', ({ waiting, want }) => {
    expect(feed(waiting)).toBe(want);
  });
  it('an absent consumer does not hide growth (the heartbeat reports the absence)', () => {
    expect(feed([10, 12, 14, 16], 0)).toBe('...D');
  });
});
