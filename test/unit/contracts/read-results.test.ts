// status and stats (contract 1.3): their requests (target `*`, strict params) and their results' data.
import { describe, expect, it } from 'vitest';
import { ActionRequestSchema, ActionResultSchema } from '../../../src/contracts/index.js';

const request = { environment: 'production', reason: 'what is up?' };
const result = {
  environment: 'production',
  status: 'executed',
  approval_id: null,
  outcome: 'ok',
  logged: true,
  request_id: null,
  job_id: '7',
  at: '2026-12-03T16:00:00Z',
};
const container = {
  service: 'web',
  name: 'web-1',
  id: 'abcdef012345',
  state: 'exited',
  running: false,
  healthy: false,
  health: 'not running (exited, exit code 137)',
  docker_health: null,
  release: 'web:2026-12-03T16-00-00Z:1',
  image: 'web:1',
  image_id: `sha256:${'a'.repeat(64)}`,
  started_at: null,
  uptime_s: null,
  restart_count: 2,
  environment: 'staging',
  in_flight: { change: true, change_action: null, approvals: [] },
};
const statsRow = {
  service: 'web',
  name: 'web-1',
  id: 'abcdef012345',
  running: true,
  cpu_percent: 12.5,
  memory_bytes: 1024,
  memory_limit_bytes: 4096,
  network_rx_bytes: 1,
  network_tx_bytes: 2,
  block_read_bytes: 3,
  block_write_bytes: 4,
};
const host = { cpu_percent: null, memory_used_bytes: 1, memory_total_bytes: 2, disks: [] };

describe('status and stats requests', () => {
  it.each(['status', 'stats'])("%s takes a service or '*', with params {} or none", (action) => {
    for (const target of ['web', '*'])
      expect(ActionRequestSchema.safeParse({ action, target, ...request }).success).toBe(true);
    expect(ActionRequestSchema.safeParse({ action, target: '*', ...request, params: {} }).success).toBe(true);
    expect(ActionRequestSchema.safeParse({ action, target: '*', ...request, params: { x: 1 } }).success).toBe(
      false,
    );
    expect(ActionRequestSchema.safeParse({ action, target: '**', ...request }).success).toBe(false);
  });

  it("no other action takes '*'", () => {
    for (const action of ['health_check', 'logs', 'restart'])
      expect(ActionRequestSchema.safeParse({ action, target: '*', ...request }).success).toBe(false);
  });
});

describe('status and stats results', () => {
  it('an executed status holds its containers; a stopped one is a row like any other', () => {
    const ok = {
      ...result,
      action: 'status',
      target: '*',
      data: { containers: [container], truncated: false },
    };
    expect(ActionResultSchema.safeParse(ok).error).toBeUndefined();
    const bad = { ...ok, data: { containers: [{ ...container, restart_count: -1 }], truncated: false } };
    expect(ActionResultSchema.safeParse(bad).success).toBe(false);
    expect(ActionResultSchema.safeParse({ ...ok, data: undefined }).success).toBe(false);
  });

  it('an executed stats holds its containers and the host', () => {
    const ok = {
      ...result,
      action: 'stats',
      target: 'web',
      data: { containers: [statsRow], host, truncated: false },
    };
    expect(ActionResultSchema.safeParse(ok).error).toBeUndefined();
    expect(
      ActionResultSchema.safeParse({ ...ok, data: { containers: [statsRow], truncated: false } }).success,
    ).toBe(false);
  });

  it("only status and stats may have the target '*'", () => {
    const logs = { ...result, action: 'logs', target: '*', data: { lines: [], truncated: false } };
    expect(ActionResultSchema.safeParse(logs).success).toBe(false);
    const failed = {
      ...result,
      action: 'status',
      target: '*',
      status: 'failed',
      error: { code: 'docker_error', message: 'no engine' },
    };
    expect(ActionResultSchema.safeParse(failed).error).toBeUndefined();
  });
});
