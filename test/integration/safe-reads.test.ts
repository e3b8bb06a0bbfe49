// The first real slice, end to end on the real bus and engine: a job on helm.actions → validation →
// run log → dockerode → progress, the final ActionResult as return value, the action_result alert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionResultSchema } from '../../src/contracts/index.js';
import { removeTestContainers, startWebService, testDocker } from '../helpers/docker.js';
import { runScriptContainer, uniqueName, waitFor } from '../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../helpers/helm.js';
import { readRunLogEntries } from '../helpers/run-log.js';

let h: TestHelm;
let bus: BusClient;

beforeAll(async () => {
  h = await startTestHelm();
  bus = await busClient(h.prefix);
});
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await removeTestContainers();
});

async function runLogEntries() {
  return readRunLogEntries(h.memoryDir);
}

describe('health_check', () => {
  it('reports a healthy service: state, Docker health, restart count, uptime', async () => {
    const service = uniqueName('web');
    const web = await startWebService({
      labels: { 'ghost.service': service, ...h.scopeLabel },
      healthcheck: true,
    });
    const r = await bus.request({
      action: 'health_check',
      target: service,
      environment: 'production',
      reason: 'is it up?',
      request_id: `t:${service}`,
    });
    const { job: _job, ...result } = r;
    expect(ActionResultSchema.safeParse(result).error).toBeUndefined();
    expect(r).toMatchObject({
      action: 'health_check',
      target: service,
      environment: 'production',
      status: 'executed',
      approval_id: null,
      logged: true,
      request_id: `t:${service}`,
      job_id: r.job.id,
    });
    const data = r.data as { healthy: boolean; containers: Array<Record<string, unknown>> };
    expect(data.healthy).toBe(true);
    expect(data.containers).toHaveLength(1);
    expect(data.containers[0]).toMatchObject({
      name: web.name,
      state: 'running',
      running: true,
      docker_health: 'healthy',
      restart_count: 0,
      healthy: true,
      check: "the image's Docker HEALTHCHECK",
    });
    expect(data.containers[0]!.uptime_s).toBeGreaterThanOrEqual(0);
    expect(String(r.outcome)).toContain(`${service} is healthy`);

    const entries = (await runLogEntries()).filter((e) => e.job_id === r.job.id);
    expect(entries.map((e) => e.event)).toEqual(['received', 'executing', 'executed']);
  });

  it('probes the ghost.healthcheck label over loopback and reports a stopped container unhealthy', async () => {
    const service = uniqueName('probe');
    const web = await startWebService({ labels: { 'ghost.service': service } });
    const ok = await bus.request({
      action: 'health_check',
      target: web.name,
      environment: 'dev',
      reason: 'probe by name',
    });
    expect(ok.status).toBe('executed');

    const labelled = uniqueName('lbl');
    const c = await runScriptContainer('sleep 600', {
      labels: { 'ghost.service': labelled, 'ghost.healthcheck': `http://127.0.0.1:${web.port}/health` },
    });
    const viaLabel = await bus.request({
      action: 'health_check',
      target: labelled,
      environment: 'dev',
      reason: 'label probe',
    });
    expect(
      (viaLabel.data as { containers: Array<{ check: string; detail: string; healthy: boolean }> })
        .containers[0],
    ).toMatchObject({ check: `GET http://127.0.0.1:${web.port}/health`, healthy: true });
    expect((viaLabel.data as { containers: Array<{ detail: string }> }).containers[0]!.detail).toMatch(
      /^HTTP 200/,
    );

    await testDocker().getContainer(c.id).kill();
    await waitFor(
      async () => !(await testDocker().getContainer(c.id).inspect()).State.Running,
      'container to stop',
    );
    const down = await bus.request({
      action: 'health_check',
      target: labelled,
      environment: 'dev',
      reason: 'after kill',
    });
    expect(down.status).toBe('executed');
    expect((down.data as { healthy: boolean }).healthy).toBe(false);
    expect(String(down.outcome)).toMatch(/unhealthy.*not running \(exited/);
  });
});

describe('logs', () => {
  it('returns the tail, stdout and stderr apart, cut to the 64 KiB cap with the newest lines kept', async () => {
    const service = uniqueName('chatty');
    await runScriptContainer(
      // Docker copies stdout and stderr separately: pauses keep their order in the log deterministic.
      'i=0; while [ $i -lt 3000 ]; do echo "line-$i-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; i=$((i+1)); done; sleep 1; echo "to-stderr" >&2; sleep 0.3; echo last-line; sleep 600',
      { labels: { 'ghost.service': service } },
    );
    await waitFor(async () => {
      const r = await bus.request({
        action: 'logs',
        target: service,
        environment: 'dev',
        reason: 'wait for output',
        params: { tail: 1 },
      });
      return (r.data as { lines: Array<{ text: string }> }).lines.some((l) => l.text === 'last-line');
    }, 'the container to print its last line');

    const small = await bus.request({
      action: 'logs',
      target: service,
      environment: 'staging',
      reason: 'tail',
      params: { tail: 3 },
    });
    expect(small.status).toBe('executed');
    expect(
      (small.data as { lines: Array<{ text: string; stream: string }> }).lines.map((l) => [l.stream, l.text]),
    ).toEqual([
      ['stdout', 'line-2999-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
      ['stderr', 'to-stderr'],
      ['stdout', 'last-line'],
    ]);
    expect((small.data as { truncated: boolean }).truncated).toBe(false);

    const big = await bus.request({
      action: 'logs',
      target: service,
      environment: 'staging',
      reason: 'all of it',
      params: { tail: 10000 },
    });
    const data = big.data as { lines: Array<{ text: string }>; truncated: boolean };
    expect(data.truncated).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(data))).toBeLessThanOrEqual(64 * 1024);
    expect(data.lines.at(-1)!.text).toBe('last-line');
    expect(data.lines.length).toBeLessThan(3002);
    expect(data.lines.length).toBeGreaterThan(300);
    expect(String(big.outcome)).toContain('older lines cut to fit 64 KiB');
  });
});

describe('target resolution', () => {
  it('fails with unknown_target for a name nothing carries', async () => {
    const r = await bus.request({
      action: 'health_check',
      target: uniqueName('nothing'),
      environment: 'production',
      reason: 'x',
    });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'unknown_target' }, logged: true });
  });

  it('fails with target_ambiguous naming both compose projects', async () => {
    const svc = uniqueName('api');
    await runScriptContainer('sleep 600', {
      labels: { 'com.docker.compose.service': svc, 'com.docker.compose.project': 'shop-a' },
    });
    await runScriptContainer('sleep 600', {
      labels: { 'com.docker.compose.service': svc, 'com.docker.compose.project': 'shop-b' },
    });
    const r = await bus.request({ action: 'logs', target: svc, environment: 'dev', reason: 'which one?' });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'target_ambiguous' } });
    expect((r.error as { message: string }).message).toContain(
      `${svc} in compose project shop-a; ${svc} in compose project shop-b`,
    );
    expect(r.data).toEqual({
      candidates: [`${svc} in compose project shop-a`, `${svc} in compose project shop-b`],
    });
  });

  it('resolves a compose service by its compose label', async () => {
    const svc = uniqueName('worker');
    await runScriptContainer('echo compose-ok; sleep 600', {
      labels: { 'com.docker.compose.service': svc, 'com.docker.compose.project': 'proj' },
    });
    const r = await waitFor(async () => {
      const x = await bus.request({ action: 'logs', target: svc, environment: 'dev', reason: 'compose' });
      return (x.data as { lines: Array<{ text: string }> }).lines.length > 0 ? x : null;
    }, 'compose logs');
    expect((r.data as { lines: Array<{ text: string }> }).lines[0]!.text).toBe('compose-ok');
  });
});

describe('following a request', () => {
  it('publishes each status as progress, returns the final result, and alerts it', async () => {
    const service = uniqueName('follow');
    await startWebService({ labels: { 'ghost.service': service } });
    const progress: Array<{ status: string }> = [];
    const job = await bus.send({
      action: 'health_check',
      target: service,
      environment: 'dev',
      reason: 'follow me',
    });
    bus.events.on('progress', ({ jobId, data }) => {
      if (jobId === job.id) progress.push(data as { status: string });
    });
    const result = (await job.waitUntilFinished(bus.events, 30_000)) as { status: string; job_id: string };
    expect(result.status).toBe('executed');
    await waitFor(async () => progress.length >= 2, 'progress events');
    expect(progress.map((p) => p.status)).toEqual(['approved', 'executed']);
    expect(progress.at(-1)).toEqual(result);

    const alert = await waitFor(
      async () =>
        (await bus.alertsSent()).find(
          (a) =>
            a.kind === 'action_result' &&
            (a.details as { result: { job_id: string } }).result.job_id === job.id,
        ),
      'the action_result alert',
    );
    expect(alert).toMatchObject({
      severity: 'info',
      kind: 'action_result',
      target: service,
      environment: 'dev',
      dedup_key: `action_result:${job.id}`,
    });
    expect((alert.details as { result: unknown }).result).toEqual(result);
  });
});
