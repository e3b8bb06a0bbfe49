// What `helm status` and `helm stats` print for a final result (pure): tables for people, one JSON
// document with --json, one escaped line on stderr and exit 1 for a failed read.
import { describe, expect, it } from 'vitest';
import { NO_USAGE } from '../../../src/actions/stats.js';
import { describeReadResult } from '../../../src/cli/status-command.js';

const row = {
  service: 'web',
  name: 'web-1\u001b[31m',
  id: 'abcdef012345',
  state: 'running',
  running: true,
  healthy: true,
  health: 'running',
  docker_health: null,
  release: null,
  image: 'web:1',
  image_id: 'sha256:x',
  started_at: '2026-12-03T16:00:00Z',
  uptime_s: 3_700,
  restart_count: 1,
  environment: 'staging',
  in_flight: {
    change: true,
    change_action: 'deploy',
    approvals: [{ approval_id: '12345678-aaaa', action: 'restart', expires_at: '2026-12-03T17:00:00Z' }],
  },
};
const executed = (action: string, data: unknown) => ({ action, status: 'executed', data });

describe('describeReadResult', () => {
  it('status: a table, control characters escaped, what is in flight in words', () => {
    const out = describeReadResult(
      'status',
      executed('status', { containers: [row], truncated: false }),
      false,
    );
    expect(out.exitCode).toBe(0);
    const [header, line] = out.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^SERVICE\s+CONTAINER\s+STATE/);
    expect(line).not.toContain('\u001b');
    expect(line).toContain('1h1m');
    expect(line).toContain('deploy under way; restart awaits Warden (12345678)');
  });

  it('stats: a table and the host; a stopped container has no CPU', () => {
    const stopped = {
      service: 'web',
      name: 'web-2',
      id: 'x',
      running: false,
      ...NO_USAGE,
    };
    const host = {
      cpu_percent: 12.5,
      memory_used_bytes: 1024 ** 3,
      memory_total_bytes: 4 * 1024 ** 3,
      disks: [{ paths: ['/'], size_bytes: 1, available_bytes: 2048, used_percent: 40 }],
    };
    const out = describeReadResult(
      'stats',
      executed('stats', { containers: [stopped], host, truncated: false }),
      false,
    );
    expect(out.stdout).toMatch(/web-2\s+-\s+not running/);
    expect(out.stdout).toContain('host: CPU 12.5 %, memory 1.0 GiB / 4.0 GiB');
    expect(out.stdout).toContain('disk: / 40.0 % used (2.0 KiB free)');
  });

  it('a failed read: one line on stderr, exit 1; --json still prints the result', () => {
    const failed = { status: 'failed', error: { code: 'unknown_target', message: 'no such\nservice' } };
    expect(describeReadResult('status', failed, false)).toEqual({
      stdout: '',
      stderr: 'helm status: unknown_target: no such service\n',
      exitCode: 1,
    });
    const json = describeReadResult('stats', failed, true);
    expect(JSON.parse(json.stdout)).toEqual(failed);
    expect(json.exitCode).toBe(1);
  });
});
