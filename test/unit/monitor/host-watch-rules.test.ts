import { describe, expect, it } from 'vitest';
import type { HostInventory } from '../../../src/bus/host-inventory.js';
import { EMPTY_HOST_WATCH, judgeHosts } from '../../../src/monitor/host-watch-rules.js';

const inv = (host: string, environment: 'production' | 'dev'): HostInventory => ({
  host,
  at: '2026-12-03T10:00:00.000Z',
  refresh_ms: 10_000,
  truncated: false,
  services: [{ service: 'web', environment, release: null, containers: 1, running: 1, healthy: true }],
});

describe('judgeHosts', () => {
  it('calls a silent host down once, critical where it held production, and back when it publishes', () => {
    let s = judgeHosts(
      EMPTY_HOST_WATCH,
      { live: [inv('a', 'dev'), inv('b', 'production'), inv('c', 'dev')], silent: [] },
      'a',
    );
    expect(s.changes).toEqual([]);
    s = judgeHosts(s.state, { live: [inv('a', 'dev')], silent: ['b', 'c'] }, 'a');
    expect(s.changes).toEqual([
      { kind: 'down', host: 'b', severity: 'critical', lastSeenAt: '2026-12-03T10:00:00.000Z' },
      { kind: 'down', host: 'c', severity: 'warning', lastSeenAt: '2026-12-03T10:00:00.000Z' },
    ]);
    // Still silent: nothing new.
    s = judgeHosts(s.state, { live: [inv('a', 'dev')], silent: ['b', 'c'] }, 'a');
    expect(s.changes).toEqual([]);
    s = judgeHosts(s.state, { live: [inv('a', 'dev'), inv('b', 'production')], silent: ['c'] }, 'a');
    expect(s.changes).toEqual([{ kind: 'back', host: 'b' }]);
  });

  it('treats a host never seen alive as production, and never judges its own host', () => {
    const s = judgeHosts(EMPTY_HOST_WATCH, { live: [], silent: ['a', 'x'] }, 'a');
    expect(s.changes).toEqual([{ kind: 'down', host: 'x', severity: 'critical', lastSeenAt: null }]);
  });
});
