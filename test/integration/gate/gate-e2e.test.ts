// The gate end to end on the real bus and engine: production changes park and change nothing until a
// valid signed decision for that exact plan is consumed; dev changes run at once; every refusal
// changes nothing; forgeries, replays and slipped-in jobs are refused and alerted.
import { execFileSync } from 'node:child_process';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planHash } from '../../../src/approval/index.js';
import { execQueueName } from '../../../src/bus/queue-names.js';
import { cancelPending, describeParked, listPending } from '../../../src/cli/pending-command.js';
import { loadConfig } from '../../../src/config/config.js';
import {
  freePort,
  removeTestContainers,
  startWebService,
  testDocker,
  testLabels,
} from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { readRunLogEntries } from '../../helpers/run-log.js';
import { makeTestWarden, startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';

const warden = makeTestWarden();
let bed: WardenBed;
let h: TestHelm;
let bus: BusClient;
let approvals: Queue;

beforeAll(async () => {
  bed = await startWardenBed({ HELM_STABILITY_WINDOW_S: '1', HELM_HEALTH_TIMEOUT_S: '20' }, warden);
  ({ h, bus, approvals } = bed);
});
afterAll(async () => {
  await bed?.close();
  await removeTestContainers();
});

async function service(environment: string | null, extra: Record<string, string> = {}) {
  const name = uniqueName('gate-web');
  const labels: Record<string, string> = { 'ghost.service': name, ...extra };
  if (environment) labels['ghost.environment'] = environment;
  const web = await startWebService({ labels });
  return { ...web, service: name };
}

async function startedAt(id: string): Promise<string> {
  return (await testDocker().getContainer(id).inspect()).State.StartedAt;
}

async function park(target: string, action = 'restart', environment = 'production') {
  const job = await bus.send({ action, target, environment, reason: 'gate test', params: { timeout_s: 5 } });
  const pending = await waitForStatus(bus.actions, job, 'pending_approval');
  const req = await bed.approvalRequest(String(pending.approval_id));
  return { job, pending, req };
}

describe('a production restart', () => {
  it('parks, changes nothing, and runs the approved plan once Warden approves', async () => {
    const web = await service('production');
    const before = await startedAt(web.id);
    const { job, pending, req } = await park(web.service);

    expect(pending).toMatchObject({
      status: 'pending_approval',
      action: 'restart',
      environment: 'production',
      logged: true,
    });
    expect(req.plan_hash).toBe(planHash(req.plan));
    expect(req.plan).toMatchObject({
      action: 'restart',
      service: web.service,
      environment: 'production',
      desired: { timeout_s: 5 },
    });
    expect(req.plan.preconditions.containers.map((c) => c.id)).toEqual([web.id]);
    expect(req.steps.length).toBeGreaterThan(0);
    // Parked without a worker slot: the job is delayed, and nothing happened to the container.
    expect(await job.getState()).toBe('delayed');
    await new Promise((r) => setTimeout(r, 500));
    expect(await startedAt(web.id)).toBe(before);

    await warden.decide(approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed', approval_id: req.approval_id, logged: true });
    expect(await startedAt(web.id)).not.toBe(before);

    const events = (await readRunLogEntries(h.memoryDir))
      .filter((e) => e.job_id === job.id)
      .map((e) => e.event);
    expect(events).toEqual(['received', 'pending_approval', 'approved', 'executing', 'executed']);
  });

  it('is refused when Warden denies, and nothing changes', async () => {
    const web = await service('production');
    const before = await startedAt(web.id);
    const { job, req } = await park(web.service, 'stop');
    await warden.decide(approvals, req, 'denied', { reason: 'not during business hours' });
    const result = (await job.waitUntilFinished(bus.events, 30_000)) as {
      status: string;
      error: { code: string; message: string };
    };
    expect(result.status).toBe('failed');
    expect(result.error.code).toBe('denied');
    expect(result.error.message).toContain('not during business hours');
    const info = await testDocker().getContainer(web.id).inspect();
    expect(info.State.Running).toBe(true);
    expect(info.State.StartedAt).toBe(before);
  });

  it('refuses forged decisions (wrong key, wrong plan), alerts them, and still takes the genuine one', async () => {
    const web = await service(null); // unlabelled: production by default
    const before = await startedAt(web.id);
    const { job, req } = await park(web.service);
    const { generateKeyPairSync } = await import('node:crypto');
    await warden.decide(approvals, req, 'approved', {
      privateKey: generateKeyPairSync('ed25519').privateKey,
    });
    await warden.decide(approvals, req, 'approved', { plan_hash: 'f'.repeat(64) });
    await waitFor(
      async () =>
        (await bus.alertsSent()).filter(
          (a) => a.kind === 'security' && String(a.dedup_key).includes(req.approval_id),
        ).length >= 1,
      'security alerts',
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await job.getState()).toBe('delayed');
    expect(await startedAt(web.id)).toBe(before);

    await warden.decide(approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bus.events, 60_000)) as { status: string };
    expect(result.status).toBe('executed');
    // A replay of the genuine decision changes nothing more.
    const after = await startedAt(web.id);
    await warden.decide(approvals, req, 'approved');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await startedAt(web.id)).toBe(after);
    const executing = (await readRunLogEntries(h.memoryDir)).filter(
      (e) => e.approval_id === req.approval_id && e.event === 'executing',
    );
    expect(executing).toHaveLength(1);
  });
});

describe('the owner', () => {
  it('sees parked requests with helm pending and ends one with helm cancel', async () => {
    const web = await service('production');
    const before = await startedAt(web.id);
    const { job, req } = await park(web.service, 'stop');
    const config = loadConfig(h.env);
    const pending = await listPending(config);
    const mine = pending.find((p) => p.approval_id === req.approval_id);
    expect(mine?.job_id).toBe(job.id);
    expect(describeParked(mine!)).toContain(`stop ${web.service} (production)`);

    expect(await cancelPending(config, req.approval_id)).toBe('cancelled');
    expect(await cancelPending(config, req.approval_id)).toBe('not_parked');
    const result = (await job.waitUntilFinished(bus.events, 30_000)) as {
      status: string;
      error: { code: string };
    };
    expect(result).toMatchObject({ status: 'failed', error: { code: 'cancelled' } });
    // A decision that comes after the cancel changes nothing.
    await warden.decide(approvals, req, 'approved');
    await new Promise((r) => setTimeout(r, 500));
    expect(await startedAt(web.id)).toBe(before);
    expect((await listPending(config)).some((p) => p.approval_id === req.approval_id)).toBe(false);
  });
});

describe('without approval', () => {
  it('a dev restart runs at once', async () => {
    const web = await service('dev');
    const before = await startedAt(web.id);
    const r = await bus.request({
      action: 'restart',
      target: web.service,
      environment: 'dev',
      reason: 'dev restart',
      params: { timeout_s: 5 },
    });
    expect(r).toMatchObject({ status: 'executed', approval_id: null });
    expect(await startedAt(web.id)).not.toBe(before);
  });
});

describe('refusals that change nothing', () => {
  it('a stated environment weaker than the real one: environment_mismatch and a security alert', async () => {
    const web = await service('production');
    const before = await startedAt(web.id);
    const r = await bus.request({
      action: 'restart',
      target: web.service,
      environment: 'dev',
      reason: 'sneaky',
    });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'environment_mismatch' } });
    expect(await startedAt(web.id)).toBe(before);
    const alert = await waitFor(
      async () => (await bus.alertsSent()).find((a) => a.kind === 'security' && a.target === web.service),
      'security alert',
    );
    expect(alert.severity).toBe('critical');
  });

  it('the image-label trick: an image saying dev does not make its container dev', async () => {
    // An image built with LABEL ghost.environment=dev: a container of it inherits the label, which
    // counts for nothing; the container is production.
    execFileSync('docker', ['build', '-q', '--network=none', '-t', 'helm-test/web-says-dev:1', '-'], {
      input: 'FROM helm-test/web:1\nLABEL ghost.environment=dev\n',
      env: { ...process.env, DOCKER_BUILDKIT: '0' },
    });
    const name = uniqueName('trick');
    const c = await testDocker().createContainer({
      name,
      Image: 'helm-test/web-says-dev:1',
      Labels: testLabels({ 'ghost.service': name }),
      Env: [`PORT=${await freePort()}`],
      HostConfig: { NetworkMode: 'host', Init: true },
    });
    await c.start();
    expect((await c.inspect()).Config.Labels['ghost.environment']).toBe('dev');
    const r = await bus.request({ action: 'stop', target: name, environment: 'dev', reason: 'x' });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'environment_mismatch' } });
    expect(String((r.error as { message: string }).message)).toContain('is production');
    expect((await c.inspect()).State.Running).toBe(true);
  });

  it('a protected target (the bus) is refused', async () => {
    const web = await service('dev', { 'ghost.role': 'bus' });
    const r = await bus.request({ action: 'stop', target: web.service, environment: 'dev', reason: 'x' });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'protected_target' } });
    expect((await testDocker().getContainer(web.id).inspect()).State.Running).toBe(true);
  });

  it('a request that waits past its deadline ends as approval_expired and is alerted', async () => {
    const quick = await startTestHelm({
      HELM_WARDEN_PUBLIC_KEY: warden.publicPem,
      HELM_APPROVAL_DEADLINE_S: '2',
    });
    const qbus = await busClient(quick.prefix);
    try {
      const web = await service('production');
      const job = await qbus.send({
        action: 'stop',
        target: web.service,
        environment: 'production',
        reason: 'no one answers',
      });
      const result = (await job.waitUntilFinished(qbus.events, 30_000)) as {
        status: string;
        error: { code: string };
      };
      expect(result.status).toBe('failed');
      expect(result.error.code).toBe('approval_expired');
      expect((await testDocker().getContainer(web.id).inspect()).State.Running).toBe(true);
      const alert = await waitFor(
        async () => (await qbus.alertsSent()).find((a) => a.kind === 'approval_expired'),
        'approval_expired alert',
      );
      expect(alert.severity).toBe('warning');
    } finally {
      await qbus.close();
      await quick.close();
    }
  });

  it('a stale plan: the target changed between approval request and decision', async () => {
    const web = await service('production');
    const { job, req } = await park(web.service);
    // Someone recreates the container under the same name and labels: a different container now.
    const info = await testDocker().getContainer(web.id).inspect();
    await testDocker().getContainer(web.id).remove({ force: true });
    const replacement = await testDocker().createContainer({
      name: info.Name.replace(/^\//, ''),
      Image: info.Config.Image,
      Labels: info.Config.Labels,
      Env: info.Config.Env,
      HostConfig: { NetworkMode: 'host', Init: true },
    });
    await replacement.start();
    const before = await startedAt(replacement.id);
    await warden.decide(approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bus.events, 30_000)) as {
      status: string;
      error: { code: string };
    };
    expect(result.status).toBe('failed');
    expect(result.error.code).toBe('stale_plan');
    expect(await startedAt(replacement.id)).toBe(before);
  });

  it('a job slipped onto the internal queue changes nothing and raises a security alert', async () => {
    const web = await service('dev');
    const before = await startedAt(web.id);
    const exec = new Queue(execQueueName(h.helm.config.host), { connection: bus.redis, prefix: h.prefix });
    try {
      await exec.add('restart', {
        v: 1,
        parent_job_id: '1',
        request: {},
        plan: { action: 'restart', service: web.service },
        plan_hash: 'x',
        decision_json: null,
        mac: '0'.repeat(64),
      });
      await waitFor(
        async () =>
          (await bus.alertsSent()).find(
            (a) => a.kind === 'security' && String(a.message).includes('helm.exec'),
          ),
        'security alert',
      );
      expect(await startedAt(web.id)).toBe(before);
    } finally {
      await exec.close();
    }
  });
});
