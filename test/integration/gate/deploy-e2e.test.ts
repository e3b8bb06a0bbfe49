// Deploys through the bus: a dev deploy runs at once and records a release; a production deploy
// waits for Warden and then runs exactly the approved image; a failing deploy is rolled back, the
// previous release keeps serving, and Sentinel gets the rolled_back alert with the last log lines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { removeReleaseTags } from '../executor/exec-harness.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import type { BusClient } from '../../helpers/helm.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';

let bed: WardenBed;
let bus: BusClient;

beforeAll(async () => {
  bed = await startWardenBed({ HELM_STABILITY_WINDOW_S: '1', HELM_HEALTH_TIMEOUT_S: '15' });
  bus = bed.bus;
});
// Release tags Helm put on images for these services, removed with them.
const services: string[] = [];
const named = (stem: string) => {
  const n = uniqueName(stem);
  services.push(n);
  return n;
};

afterAll(async () => {
  await removeReleaseTags(services);
  await bed?.close();
  await removeTestContainers();
});

async function imageId(ref: string): Promise<string> {
  return (await testDocker().getImage(ref).inspect()).Id;
}

async function serves(url: string): Promise<string> {
  return (await fetch(`${url}/`)).text();
}

describe('deploy through the bus', () => {
  it('in dev runs at once, replaces the container, and records the release', async () => {
    const name = named('dep-dev');
    const web = await startWebService({
      labels: { 'ghost.service': name, 'ghost.environment': 'dev' },
      healthcheck: true,
    });
    expect(await serves(web.url)).toContain('version 1');
    const r = await bus.request({
      action: 'deploy',
      target: name,
      environment: 'dev',
      reason: 'ship v2',
      params: { image: 'helm-test/web:2', image_id: await imageId('helm-test/web:2') },
    });
    expect(r).toMatchObject({ status: 'executed', approval_id: null });
    expect(r.release).toMatchObject({ image: 'helm-test/web:2', image_id: await imageId('helm-test/web:2') });
    expect(await serves(web.url)).toContain('version 2');
  });

  it('in production waits for Warden, then deploys exactly the approved image', async () => {
    const name = named('dep-prod');
    const web = await startWebService({
      labels: { 'ghost.service': name, 'ghost.environment': 'production' },
      healthcheck: true,
    });
    const job = await bus.send({
      action: 'deploy',
      target: name,
      environment: 'production',
      reason: 'ship v2 to production',
      request_id: `forge:${name}`,
      params: {
        image: 'helm-test/web:2',
        image_id: await imageId('helm-test/web:2'),
        artifact_id: 'build-42',
      },
    });
    const pending = await waitForStatus(bus.actions, job, 'pending_approval');
    const req = await bed.approvalRequest(String(pending.approval_id));
    expect(req.plan).toMatchObject({
      action: 'deploy',
      desired: { image: 'helm-test/web:2', artifact_id: 'build-42', strategy: 'recreate' },
    });
    expect(await serves(web.url)).toContain('version 1');

    await bed.warden.decide(bed.approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bus.events, 90_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed', approval_id: req.approval_id });
    expect(await serves(web.url)).toContain('version 2');
  });

  it('that crashes is rolled back at once: the old release serves, the result says so, Sentinel is told', async () => {
    const name = named('dep-crash');
    const web = await startWebService({
      labels: { 'ghost.service': name, 'ghost.environment': 'staging' },
      healthcheck: true,
    });
    const r = await bus.request({
      action: 'deploy',
      target: name,
      environment: 'staging',
      reason: 'ship a broken build',
      params: {
        image: 'helm-test/web-faulty:crash-now',
        image_id: await imageId('helm-test/web-faulty:crash-now'),
      },
    });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'rolled_back' } });
    expect(await serves(web.url)).toContain('version 1');
    const alert = await waitFor(
      async () => (await bus.alertsSent()).find((a) => a.kind === 'rolled_back' && a.target === name),
      'rolled_back alert',
    );
    expect(alert).toMatchObject({ severity: 'warning', environment: 'staging' });
    expect(JSON.stringify(alert.details)).toContain('crashing at start');
  });

  it('start-first of a service the proxy does not route is refused clearly, and nothing changes', async () => {
    const name = named('dep-sf');
    const web = await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'dev' } });
    const r = await bus.request({
      action: 'deploy',
      target: name,
      environment: 'dev',
      reason: 'zero downtime please',
      params: {
        image: 'helm-test/web:2',
        image_id: await imageId('helm-test/web:2'),
        strategy: 'start-first',
      },
    });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'not_supported' } });
    expect(String((r.error as { message: string }).message)).toContain('start-first needs the front proxy');
    expect(await serves(web.url)).toContain('version 1');
  });

  it('rolls back to a named release after a prune', async () => {
    const name = named('dep-rb');
    // In this Helm's scope, so the prune looks at its releases (and the host counts as dev).
    const web = await startWebService({
      labels: { ...bed.h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'dev' },
      healthcheck: true,
    });
    const deploy = async (ref: string) =>
      bus.request({
        action: 'deploy',
        target: name,
        environment: 'dev',
        reason: `ship ${ref}`,
        params: { image: ref, image_id: await imageId(ref) },
      });
    const toV2 = await deploy('helm-test/web:2');
    const v2Release = (toV2.release as { id: string }).id;
    expect((await deploy('helm-test/web:1')).status).toBe('executed');
    expect(await serves(web.url)).toContain('version 1');
    for (const what of ['containers', 'images']) {
      const pruned = await bus.request({
        action: 'prune',
        target: 'local',
        environment: 'dev',
        reason: 'tidy',
        params: { what },
      });
      expect(pruned.status).toBe('executed');
    }
    const back = await bus.request({
      action: 'rollback',
      target: name,
      environment: 'dev',
      reason: 'back to v2',
      params: { to: v2Release },
    });
    expect(back).toMatchObject({ status: 'executed' });
    expect(await serves(web.url)).toContain('version 2');
  });
});
