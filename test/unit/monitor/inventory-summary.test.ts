import { describe, expect, it } from 'vitest';
import type { ContainerStatus } from '../../../src/contracts/index.js';
import { summariseServices } from '../../../src/monitor/inventory-summary.js';

function c(service: string, over: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    service,
    name: `${service}-x`,
    id: 'id',
    state: 'running',
    running: true,
    healthy: true,
    health: 'healthy',
    docker_health: null,
    release: null,
    image: 'img',
    image_id: 'sha256:x',
    started_at: '2026-12-03T10:00:00.000Z',
    uptime_s: 1,
    restart_count: 0,
    environment: 'dev',
    in_flight: { change: false, change_action: null, approvals: [] },
    ...over,
  } as ContainerStatus;
}

describe('summariseServices', () => {
  it('gives one line per service: strongest environment, newest running release, counts, health', () => {
    const out = summariseServices([
      c('web', { environment: 'staging', release: 'r1', started_at: '2026-12-03T10:00:00.000Z' }),
      c('web', { environment: 'production', release: 'r2', started_at: '2026-12-03T11:00:00.000Z' }),
      c('web', { running: false, healthy: false, release: 'r3', started_at: '2026-12-03T12:00:00.000Z' }),
      c('api', { healthy: false }),
      c('db', { running: false, healthy: false, release: 'r9' }),
    ]);
    expect(out).toEqual([
      { service: 'api', environment: 'dev', release: null, containers: 1, running: 1, healthy: false },
      { service: 'db', environment: 'dev', release: null, containers: 1, running: 0, healthy: false },
      { service: 'web', environment: 'production', release: 'r2', containers: 3, running: 2, healthy: true },
    ]);
  });
});
