// The status page's data, assembled as data: services grouped with their rollback document, parked
// requests with their plan and time left (soonest deadline first), the run log newest first with its
// verified status, the last alerts newest first, and untrusted text passed through unchanged (the
// page renders it as text).
import { describe, expect, it } from 'vitest';
import type { Alert, ApprovalRequest, ContainerStatus } from '../../../src/contracts/index.js';
import {
  assembleStatusPage,
  STATUS_PAGE_LIMITS,
  type StatusPageInput,
} from '../../../src/http/status-page-data.js';

const now = new Date('2026-12-03T12:00:00.000Z');

function container(service: string, over: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    service,
    name: `${service}-1`,
    id: 'c'.repeat(64),
    state: 'running',
    running: true,
    healthy: true,
    health: 'healthy',
    docker_health: null,
    release: 'r1',
    image: 'helm-test/web:1',
    image_id: 'sha256:x',
    started_at: '2026-12-03T11:00:00.000Z',
    uptime_s: 3600,
    restart_count: 0,
    environment: 'production',
    in_flight: { change: false, change_action: null, approvals: [] },
    ...over,
  };
}

function parked(service: string, expiresAt: string): ApprovalRequest {
  return {
    approval_id: `id-${service}`,
    plan: { service, action: 'deploy', environment: 'production', desired: { image: 'web:2' } },
    steps: ['pull web:2', 'replace'],
    request: { reason: 'ship <script>alert(1)</script>' },
    expires_at: expiresAt,
  } as unknown as ApprovalRequest;
}

function input(over: Partial<StatusPageInput> = {}): StatusPageInput {
  return {
    now,
    containers: [],
    rollbackDocs: {},
    parked: [],
    runLog: { ok: true, problems: [], entries: [] },
    alerts: [],
    incidents: null,
    readiness: { ready: true, checks: { redis: { ok: true } } },
    unavailable: [],
    ...over,
  };
}

describe('assembleStatusPage', () => {
  it('groups containers by service, sorted, with environment, release and rollback document', () => {
    const data = assembleStatusPage(
      input({
        containers: [
          container('web'),
          container('api', { release: null, uptime_s: null }),
          container('web', { name: 'web-2' }),
        ],
        rollbackDocs: { web: '# roll back web' },
      }),
    );
    expect(data.services.map((s) => s.service)).toEqual(['api', 'web']);
    const web = data.services[1]!;
    expect(web).toMatchObject({ environment: 'production', rollback_doc: '# roll back web' });
    expect(web.containers.map((c) => c.name)).toEqual(['web-1', 'web-2']);
    expect(data.services[0]).toMatchObject({
      rollback_doc: null,
      containers: [{ release: null, uptime_s: null }],
    });
    expect(data.generated_at).toBe(now.toISOString());
    expect(data.helm.ready).toBe(true);
    expect(data.unavailable).toEqual([]);
  });

  it('lists parked requests with the full plan and time left, soonest first, reasons unchanged', () => {
    const data = assembleStatusPage(
      input({
        parked: [
          parked('late', '2026-12-03T12:10:00.000Z'),
          parked('soon', '2026-12-03T12:01:30.500Z'),
          parked('gone', '2026-12-03T11:00:00.000Z'),
        ],
      }),
    );
    expect(data.parked.map((p) => [p.service, p.time_left_s])).toEqual([
      ['gone', 0],
      ['soon', 90],
      ['late', 600],
    ]);
    expect(data.parked[1]).toMatchObject({
      action: 'deploy',
      environment: 'production',
      reason: 'ship <script>alert(1)</script>',
      steps: ['pull web:2', 'replace'],
      plan: { service: 'soon', desired: { image: 'web:2' } },
    });
  });

  it('shows the run log newest first, capped, with its verification and problems', () => {
    const entries = Array.from({ length: STATUS_PAGE_LIMITS.runLogEntries + 5 }, (_, i) => ({
      seq: i + 1,
      at: now.toISOString(),
      event: 'executed',
      action: 'status',
      target: '*',
      environment: null,
      code: null,
      message: `entry ${i + 1}`,
    }));
    const data = assembleStatusPage(
      input({
        runLog: { ok: false, problems: [{ file: 'run_log.md', line: 7, reason: 'bad mac' }], entries },
      }),
    );
    expect(data.run_log.verified).toBe(false);
    expect(data.run_log.problems).toEqual(['run_log.md:7: bad mac']);
    expect(data.run_log.entries).toHaveLength(STATUS_PAGE_LIMITS.runLogEntries);
    expect(data.run_log.entries[0]!.seq).toBe(STATUS_PAGE_LIMITS.runLogEntries + 5);
  });

  it('passes on what could not be read', () => {
    const data = assembleStatusPage(
      input({ unavailable: ['services: connect ENOENT /var/run/docker.sock'] }),
    );
    expect(data.unavailable).toEqual(['services: connect ENOENT /var/run/docker.sock']);
  });

  it('keeps the last alerts, newest first', () => {
    const alerts = Array.from(
      { length: STATUS_PAGE_LIMITS.alerts + 3 },
      (_, i) =>
        ({
          alert_id: `a${i}`,
          at: now.toISOString(),
          kind: 'deploy_failed',
          severity: 'critical',
          message: `m${i}`,
        }) as unknown as Alert,
    );
    const data = assembleStatusPage(input({ alerts }));
    expect(data.alerts).toHaveLength(STATUS_PAGE_LIMITS.alerts);
    expect(data.alerts[0]).toEqual({
      at: now.toISOString(),
      kind: 'deploy_failed',
      severity: 'critical',
      message: `m${STATUS_PAGE_LIMITS.alerts + 2}`,
      target: null,
    });
  });
});

describe("the monitor's incidents", () => {
  const incident = (key: string, severity: 'critical' | 'warning', openedAt: string) => ({
    key,
    kind: 'downtime',
    severity,
    target: key,
    environment: 'production',
    message: `${key} is down <script>x</script>`,
    opened_at: openedAt,
    updated_at: openedAt,
    closed_at: null,
    closed_by: null,
  });

  it('says the monitor is silent when no board is in Redis', () => {
    expect(assembleStatusPage(input()).monitor).toEqual({
      reporting: false,
      host: null,
      at: null,
      open: [],
      closed: [],
    });
  });

  it('shows open incidents critical first then oldest first, with how long they are open, and the closed ones', () => {
    const closed = {
      ...incident('old', 'warning', '2026-12-03T10:00:00.000Z'),
      closed_at: now.toISOString(),
    };
    const data = assembleStatusPage(
      input({
        incidents: {
          host: 'h1',
          at: now.toISOString(),
          refresh_ms: 10_000,
          open: [
            incident('w', 'warning', '2026-12-03T11:00:00.000Z'),
            incident('c2', 'critical', '2026-12-03T11:59:00.000Z'),
            incident('c1', 'critical', '2026-12-03T11:58:00.000Z'),
          ],
          closed: [closed],
        },
      }),
    );
    expect(data.monitor.reporting).toBe(true);
    expect(data.monitor.open.map((i) => [i.key, i.open_for_s])).toEqual([
      ['c1', 120],
      ['c2', 60],
      ['w', 3600],
    ]);
    expect(data.monitor.open[0]!.message).toBe('c1 is down <script>x</script>');
    expect(data.monitor.closed).toEqual([closed]);
  });
});

describe("the page's script", () => {
  it('never turns data into markup and loads nothing from elsewhere', async () => {
    const { STATUS_PAGE_HTML, STATUS_PAGE_JS, STATUS_PAGE_CSS } = await import(
      '../../../src/http/status-page-assets.js'
    );
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'Function(',
    ]) {
      expect(STATUS_PAGE_JS).not.toContain(sink);
    }
    expect(STATUS_PAGE_JS).toContain('textContent');
    for (const text of [STATUS_PAGE_HTML, STATUS_PAGE_JS, STATUS_PAGE_CSS])
      expect(text).not.toMatch(/https?:\/\//);
  });
});
