// /metrics on a real Helm after real requests through the bus: the request counter by action,
// environment, status and code; the approval wait and the operation's duration (histograms); alerts
// by kind; the health gate's steps; the run log's append latency; a bus queue's depth read at scrape time; and prom-client's
// default process metrics with the event-loop lag. Parsed from prom-client's text format.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../helpers/containers.js';
import { removeTestContainers, startWebService } from '../../helpers/docker.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';

let bed: WardenBed;
beforeAll(async () => {
  bed = await startWardenBed({ HELM_HTTP_ADDR: '127.0.0.1:0', HELM_STABILITY_WINDOW_S: '1' });
});
afterAll(async () => {
  await bed?.close();
  await removeTestContainers();
});

/** `name{a="x",b="y"}` (labels sorted) → value, for every sample line. */
type Samples = Map<string, number>;

function parseMetrics(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    const labels = [...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map(
      ([, k, v]) => [k!, v!] as [string, string],
    );
    samples.set(key(m[1]!, Object.fromEntries(labels)), Number(m[3]));
  }
  return samples;
}

function key(name: string, labels: Record<string, string> = {}): string {
  const inner = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`)
    .join(',');
  return inner ? `${name}{${inner}}` : name;
}

async function scrape(): Promise<{
  text: string;
  at: (name: string, labels?: Record<string, string>) => number;
}> {
  const res = await fetch(`${bed.h.helm.http!.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples = parseMetrics(text);
  return { text, at: (name, labels) => samples.get(key(name, labels)) ?? 0 };
}

describe('/metrics after real requests', () => {
  it('counts requests, times the approval wait and the operation, counts alerts and run-log appends', async () => {
    const before = await scrape();
    const { bus, warden, approvals } = bed;

    const unknown = await bus.request({
      action: 'health_check',
      target: uniqueName('nothing'),
      environment: 'production',
      reason: 'metrics test',
    });
    expect(unknown.status).toBe('failed');
    const invalid = await bus.request({ action: 'teleport', target: 'x', environment: 'moon', reason: 'r' });
    expect(invalid.status).toBe('failed');

    const name = uniqueName('metrics');
    await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'production' } });
    const job = await bus.send({
      action: 'restart',
      target: name,
      environment: 'production',
      reason: 'metrics test',
      params: { timeout_s: 5 },
    });
    const pending = await waitForStatus(bus.actions, job, 'pending_approval');
    await warden.decide(approvals, await bed.approvalRequest(String(pending.approval_id)), 'approved');
    expect(((await job.waitUntilFinished(bus.events, 60_000)) as { status: string }).status).toBe('executed');

    const after = await scrape();
    const moved = (name: string, labels?: Record<string, string>) =>
      after.at(name, labels) - before.at(name, labels);

    expect(
      moved('helm_requests_total', {
        action: 'health_check',
        environment: 'production',
        status: 'failed',
        code: 'unknown_target',
      }),
    ).toBe(1);
    expect(
      moved('helm_requests_total', {
        action: 'invalid',
        environment: 'invalid',
        status: 'failed',
        code: 'invalid_request',
      }),
    ).toBe(1);
    expect(
      moved('helm_requests_total', {
        action: 'restart',
        environment: 'production',
        status: 'executed',
        code: 'none',
      }),
    ).toBe(1);
    // What an invalid request echoes never becomes a label.
    expect(after.text).not.toContain('teleport');
    expect(after.text).not.toContain('moon');

    expect(moved('helm_approval_wait_seconds_count')).toBe(1);
    expect(after.at('helm_approval_wait_seconds_sum')).toBeGreaterThan(0);
    expect(moved('helm_approval_wait_seconds_bucket', { le: '+Inf' })).toBe(1);
    expect(moved('helm_operation_duration_seconds_count', { action: 'restart', status: 'executed' })).toBe(1);
    expect(
      after.at('helm_operation_duration_seconds_sum', { action: 'restart', status: 'executed' }),
    ).toBeGreaterThan(0);

    // The restart's health check of the restarted container.
    expect(
      moved('helm_health_gate_duration_seconds_count', { step: 'health_check', result: 'passed' }),
    ).toBeGreaterThanOrEqual(1);
    expect(moved('helm_alerts_total', { kind: 'action_result', severity: 'warning' })).toBe(2);
    expect(moved('helm_alerts_total', { kind: 'action_result', severity: 'info' })).toBeGreaterThanOrEqual(1);
    expect(moved('helm_rollbacks_total', { trigger: 'requested', result: 'executed' })).toBe(0);

    // Each request writes several entries (received, …, executed): the histogram counts every append.
    expect(moved('helm_run_log_append_seconds_count')).toBeGreaterThanOrEqual(6);
    expect(after.at('helm_run_log_append_seconds_bucket', { le: '+Inf' })).toBe(
      after.at('helm_run_log_append_seconds_count'),
    );

    // Nobody consumes warden.requests here: the approval request Helm sent is still waiting on it.
    expect(after.at('helm_queue_jobs', { queue: 'warden.requests', state: 'waiting' })).toBe(1);
    for (const queue of ['helm.actions', 'helm.approvals', 'warden.requests', 'sentinel.alerts'])
      expect(after.text).toContain(`helm_queue_jobs{queue="${queue}",state="waiting"}`);

    expect(after.text).toContain('# TYPE helm_docker_errors_total counter');
    expect(after.at('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(after.text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });
});
