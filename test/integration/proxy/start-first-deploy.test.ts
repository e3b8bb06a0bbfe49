// Deploys of a routed service through the bus, start-first behind a real Caddy (issue 11, contract
// 1.6), while a bounded loop of 200 requests/s hits the proxy's listener on 127.0.0.1: a staging
// deploy that names no strategy, a production deploy approved by the test Warden (which signs a plan
// saying start-first, with steps naming the instance port, the switch and the drain), and a release
// that never turns healthy (deploy_failed, the old one served throughout). Every request is answered;
// Docker and the proxy's admin API are read back afterwards.
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCaddyAdmin } from '../../../src/proxy/caddy-admin.js';
import { type ProxyPort, upstream } from '../../../src/proxy/proxy-port.js';
import { startTestCaddy, type TestCaddy } from '../../helpers/caddy.js';
import { waitFor } from '../../helpers/containers.js';
import { removeTestContainers, testDocker } from '../../helpers/docker.js';
import { type LoopResult, requestLoopUntil } from '../../helpers/http-upstream.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';
import { removeReleaseTags } from '../executor/exec-harness.js';
import { proxyEnv, startRoutedWeb } from './routed-web.js';

let caddy: TestCaddy;
let proxy: ProxyPort;
let bed: WardenBed;
const services: string[] = [];

beforeAll(async () => {
  caddy = await startTestCaddy();
  proxy = makeCaddyAdmin({ adminUrl: caddy.adminUrl });
  bed = await startWardenBed({
    HELM_STABILITY_WINDOW_S: '1',
    HELM_HEALTH_TIMEOUT_S: '10',
    ...(await proxyEnv(caddy.adminUrl)),
  });
}, 60_000);

afterAll(async () => {
  await bed?.close();
  await caddy?.destroy();
  await removeTestContainers();
  await removeReleaseTags(services);
});

async function imageId(ref: string): Promise<string> {
  return (await testDocker().getImage(ref).inspect()).Id;
}

/** A routed web service (helm-test/web:1) in `environment`, with its route in the proxy. */
async function routedService(environment: string) {
  const s = await startRoutedWeb(proxy, 'sfd', { 'ghost.environment': environment });
  services.push(s.service);
  return { ...s, environment };
}

/** A deploy request of `image` to the service, naming no strategy, on helm.actions. */
async function deploy(s: Awaited<ReturnType<typeof routedService>>, image: string): Promise<Job> {
  return bed.bus.send({
    action: 'deploy',
    target: s.service,
    environment: s.environment,
    reason: `ship ${image} with zero downtime`,
    params: { image, image_id: await imageId(image) },
  });
}

/** The request's final result (its job's progress once executed or failed). */
async function finalResult(job: Job): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const p = ((await bed.bus.actions.getJob(job.id!))?.progress ?? null) as Record<string, unknown> | null;
      return p && (p.status === 'executed' || p.status === 'failed') ? p : null;
    },
    `job ${job.id} final`,
    90_000,
  );
}

function total(load: LoopResult): number {
  return load.failures.length + [...load.bodies.values()].reduce((a, b) => a + b, 0);
}

/** What Docker and the proxy show after a start-first deploy to v2 of `s`. */
async function expectServedByV2(
  s: Awaited<ReturnType<typeof routedService>>,
  result: Record<string, unknown>,
) {
  const data = result.data as { strategy: string; upstreams: string[]; containers: Array<{ id: string }> };
  expect(data.strategy).toBe('start-first');
  const now = await testDocker().getContainer(s.web.name).inspect();
  expect(now.Id).not.toBe(s.web.id);
  expect(now.Id.startsWith(data.containers[0]!.id)).toBe(true);
  expect(now.State.Running).toBe(true);
  expect(now.Image).toBe(await imageId('helm-test/web:2'));
  expect(now.Config.Labels['ghost.service']).toBe(s.service);
  expect(now.Config.Labels['helm.release']).toBe((result.release as { id: string }).id);
  const port = Number(now.Config.Labels['ghost.instance-port']);
  expect(port).not.toBe(s.web.port);
  expect(data.upstreams).toEqual([`127.0.0.1:${port}`]);
  expect((await proxy.readRoute(s.service))?.upstreams).toEqual([upstream(port)]);
  const old = await testDocker().getContainer(s.web.id).inspect();
  expect(old.State.Running).toBe(false);
  expect(old.Name).toMatch(/-helm-r\d+$/);
  expect(await (await fetch(s.url)).text()).toContain('version 2');
}

describe('start-first deploys through the bus', () => {
  it('staging, no strategy named: start-first by default, every request answered', async () => {
    const s = await routedService('staging');
    const job = await deploy(s, 'helm-test/web:2');
    const done = finalResult(job);
    const load = await requestLoopUntil(s.url, done, { perSecond: 200 });
    const result = await done;

    expect(result).toMatchObject({ status: 'executed' });
    expect(String(result.outcome)).toContain('start-first behind the proxy');
    expect(load.failures).toEqual([]);
    expect([...load.bodies.keys()].some((b) => b.includes('version 2'))).toBe(true);
    await expectServedByV2(s, result);
    console.info(`start-first deploy (staging, bus): 0 failed of ${total(load)}`);
  });

  it('production: Warden signs a start-first plan whose steps name the port, the switch and the drain; every request answered', async () => {
    const s = await routedService('production');
    const job = await deploy(s, 'helm-test/web:2');
    const parked = await waitForStatus(bed.bus.actions, job, 'pending_approval');
    const req = await bed.approvalRequest(String(parked.approval_id));
    expect(req.plan).toMatchObject({ action: 'deploy', desired: { strategy: 'start-first' } });
    const steps = req.steps.join('\n');
    expect(steps).toContain('start-first behind the proxy');
    expect(steps).toContain('on a free instance port of its own');
    expect(steps).toContain(`switch the upstreams of Helm's route helm-${s.service}`);
    expect(steps).toContain('drain the old ones');
    // Nothing moved while parked.
    expect((await proxy.readRoute(s.service))?.upstreams).toEqual([upstream(s.web.port)]);

    const done = finalResult(job);
    const load = requestLoopUntil(s.url, done, { perSecond: 200 });
    await bed.warden.decide(bed.approvals, req, 'approved');
    const [result, loaded] = await Promise.all([done, load]);

    expect(result).toMatchObject({ status: 'executed', approval_id: parked.approval_id });
    expect(loaded.failures).toEqual([]);
    await expectServedByV2(s, result);
    console.info(`start-first deploy (production, approved): 0 failed of ${total(loaded)}`);
  });

  it('a release that never turns healthy: deploy_failed, the old one served throughout', async () => {
    const s = await routedService('staging');
    const job = await deploy(s, 'helm-test/web-faulty:unhealthy');
    const done = finalResult(job);
    const load = await requestLoopUntil(s.url, done, { perSecond: 200 });
    const result = await done;

    expect(result).toMatchObject({ status: 'failed', error: { code: 'health_check_failed' } });
    expect((result.error as { message: string }).message).toContain('failed before the switch');
    expect(load.failures).toEqual([]);
    expect([...load.bodies.keys()].every((b) => b.includes('version 1'))).toBe(true);
    expect((await proxy.readRoute(s.service))?.upstreams).toEqual([upstream(s.web.port)]);
    const old = await testDocker().getContainer(s.web.name).inspect();
    expect(old.Id).toBe(s.web.id);
    expect(old.State.Running).toBe(true);
    const left = (await testDocker().listContainers({ all: true })).filter((c) =>
      c.Names.some((n) => n.startsWith(`/${s.web.name}-i`)),
    );
    expect(left).toEqual([]);
    const alert = await waitFor(
      async () =>
        (await bed.bus.alertsSent()).find((a) => a.kind === 'deploy_failed' && a.target === s.service),
      'deploy_failed alert',
    );
    expect(alert).toMatchObject({ severity: 'warning', environment: 'staging' });
    console.info(`start-first deploy of an unhealthy release: 0 failed of ${total(load)}`);
  });

  it('recreate is still honoured for a routed service: its {port} healthcheck probed on its own port', async () => {
    const s = await routedService('staging');
    const r = await bed.bus.request({
      action: 'deploy',
      target: s.service,
      environment: 'staging',
      reason: 'ship v2, downtime accepted',
      params: { image: 'helm-test/web:2', image_id: await imageId('helm-test/web:2'), strategy: 'recreate' },
    });
    expect(r).toMatchObject({ status: 'executed', data: { strategy: 'recreate' } });
    expect(JSON.stringify(r.data)).toContain(`http://127.0.0.1:${s.web.port}/health`);
    const now = await testDocker().getContainer(s.web.name).inspect();
    expect(now.Image).toBe(await imageId('helm-test/web:2'));
    // Recreated on the same port: the route did not have to move.
    expect((await proxy.readRoute(s.service))?.upstreams).toEqual([upstream(s.web.port)]);
    expect(await (await fetch(s.url)).text()).toContain('version 2');
  });

  it('a rollback after a start-first deploy brings the kept release back and the route follows it', async () => {
    const s = await routedService('staging');
    const deployed = await finalResult(await deploy(s, 'helm-test/web:2'));
    expect(deployed).toMatchObject({ status: 'executed' });
    const r = await bed.bus.request({
      action: 'rollback',
      target: s.service,
      environment: 'staging',
      reason: 'v2 misbehaves',
    });
    expect(r).toMatchObject({ status: 'executed' });
    const back = await testDocker().getContainer(s.web.name).inspect();
    expect(back.Id).toBe(s.web.id);
    expect(back.State.Running).toBe(true);
    expect((await proxy.readRoute(s.service))?.upstreams).toEqual([upstream(s.web.port)]);
    expect(await (await fetch(s.url)).text()).toContain('version 1');
  });
});
