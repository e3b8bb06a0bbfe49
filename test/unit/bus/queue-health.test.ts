import { describe, expect, it } from 'vitest';
import { judgeQueue } from '../../../src/bus/queue-health.js';

const s = (consumers: number, waiting: number, at = 0) => ({ at, consumers, waiting });

describe('judgeQueue', () => {
  it('says a queue without a consumer has none', () => {
    expect(judgeQueue('warden.requests', [s(0, 3)]).state).toBe('consumer_absent');
  });
  it('calls a backlog growing only when it rose in every recent sample above the floor', () => {
    expect(judgeQueue('q', [s(1, 10), s(1, 20), s(1, 30), s(1, 40)]).state).toBe('backlog_growing');
    expect(judgeQueue('q', [s(1, 10), s(1, 20), s(1, 15), s(1, 40)]).state).toBe('ok');
    expect(judgeQueue('q', [s(1, 1), s(1, 2), s(1, 3), s(1, 4)]).state).toBe('ok');
    expect(judgeQueue('q', [s(1, 20), s(1, 30), s(1, 40)]).state).toBe('ok');
  });
  it('knows nothing before the first sample', () => {
    expect(judgeQueue('q', []).state).toBe('unknown');
  });
});
