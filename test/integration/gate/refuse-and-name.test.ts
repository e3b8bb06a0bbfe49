// Issue 8, items 4, 9 and 15, through the bus with a test Warden:
//  - what Helm cannot do (a start-first deploy of a service the proxy does not route) is refused before Warden is asked: no ApprovalRequest,
//    a failed result, a run-log entry, nothing changed;
//  - a scale-down plan names exactly the containers that go, and the ones that stay;
//  - a remove that deletes volume data without an archive waits for Warden in staging and dev too,
//    names each volume "deleted without archive", and changes nothing until approved.
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService, testDocker, testLabels } from '../../helpers/docker.js';
import { recordedName, waitFor } from '../../helpers/containers.js';
import { readRunLogEntries } from '../../helpers/run-log.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';
import { removeReleaseTags, startServiceContainer } from '../executor/exec-harness.js';
import { removeVolumes, runningOf, startVolumeService, volumeExists } from '../executor/volume-service.js';

let bed: WardenBed;
const services: string[] = [];
const volumes: string[] = [];
const named = (stem: string) => recordedName(services, stem);

beforeAll(async () => {
  bed = await startWardenBed({ HELM_STABILITY_WINDOW_S: '1', HELM_HEALTH_TIMEOUT_S: '15' });
}, 60_000);

afterAll(async () => {
  await bed?.close();
  await removeTestContainers();
  await removeReleaseTags(services);
  await removeVolumes(volumes);
});

/** The request's first status past `approved`: its final result, or pending_approval. */
async function settled(job: Job): Promise<Record<string, unknown>> {
  return waitFor(
    async () => {
      const p = ((await bed.bus.actions.getJob(job.id!))?.progress ?? null) as Record<string, unknown> | null;
      return p && p.status !== 'approved' ? p : null;
    },
    `job ${job.id} settled`,
    60_000,
  );
}

/** The ApprovalRequests Helm put on warden.requests for this target. */
async function approvalRequestsFor(target: string): Promise<unknown[]> {
  const jobs = await bed.wardenRequests.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed']);
  return jobs.filter((j) => (j.data as { request?: { target?: string } }).request?.target === target);
}

describe('refused before Warden is asked', () => {
  it('a start-first production deploy of a service the proxy does not route fails not_supported at once: no ApprovalRequest, a run-log entry, nothing changed', async () => {
    const name = named('sf-prod');
    const web = await startWebService({
      labels: { 'ghost.service': name, 'ghost.environment': 'production' },
      healthcheck: true,
    });
    const before = (await testDocker().getContainer(web.id).inspect()).Id;
    const imageId = (await testDocker().getImage('helm-test/web:2').inspect()).Id;
    const job = await bed.bus.send({
      action: 'deploy',
      target: name,
      environment: 'production',
      reason: 'zero downtime please',
      params: { image: 'helm-test/web:2', image_id: imageId, strategy: 'start-first' },
    });
    const result = await settled(job);
    expect(result).toMatchObject({ status: 'failed', approval_id: null, error: { code: 'not_supported' } });
    expect(String((result.error as { message: string }).message)).toContain(
      'start-first needs the front proxy',
    );
    expect(await approvalRequestsFor(name)).toEqual([]);
    const entries = await readRunLogEntries(bed.h.memoryDir);
    expect(entries.filter((e) => e.job_id === String(job.id)).map((e) => e.event)).toEqual([
      'received',
      'failed',
    ]);
    expect((await testDocker().getContainer(web.id).inspect()).Id).toBe(before);
    expect(await (await fetch(`${web.url}/`)).text()).toContain('version 1');
  });
  it('so is a production scale or set_env of a compose service: no ApprovalRequest, nothing changed', async () => {
    const name = named('sf-compose');
    const c = await startServiceContainer({
      service: name,
      name,
      image: 'helm-test/worker:1',
      port: null,
      labels: { 'ghost.environment': 'production', 'com.docker.compose.project': 'helmtestproj' },
    });
    for (const [action, params] of [
      ['scale', { replicas: 2 }],
      ['set_env', { set: { MODE: 'fast' } }],
    ] as const) {
      const job = await bed.bus.send({
        action,
        target: name,
        environment: 'production',
        reason: 'try',
        params,
      });
      const result = await settled(job);
      expect(result).toMatchObject({ status: 'failed', approval_id: null, error: { code: 'unavailable' } });
      expect(String((result.error as { message: string }).message)).toContain('compose project helmtestproj');
    }
    expect(await approvalRequestsFor(name)).toEqual([]);
    expect(await runningOf(name)).toEqual([name]);
    expect((await testDocker().getContainer(name).inspect()).Id).toBe(c.id);
  });
  it('so is a production scale to 2 of a service bound to a fixed host port', async () => {
    const name = named('sf-port');
    const web = await startWebService({
      labels: { 'ghost.service': name, 'ghost.environment': 'production' },
    });
    const result = await settled(
      await bed.bus.send({
        action: 'scale',
        target: name,
        environment: 'production',
        reason: 'more',
        params: { replicas: 2 },
      }),
    );
    expect(result).toMatchObject({ status: 'failed', approval_id: null, error: { code: 'not_supported' } });
    expect(String((result.error as { message: string }).message)).toContain(`host port ${web.port}`);
    expect(await approvalRequestsFor(name)).toEqual([]);
    expect(await runningOf(name)).toEqual([web.name]);
  });
});

describe('the plan Warden signs', () => {
  it('of a scale-down names exactly the containers that go, and the ones that stay', async () => {
    const name = named('sd-workers');
    const ids: string[] = [];
    for (const n of [name, `${name}-2`, `${name}-3`]) {
      const c = await startServiceContainer({
        service: name,
        name: n,
        image: 'helm-test/worker:1',
        port: null,
        labels: { 'ghost.environment': 'dev' },
      });
      ids.push(c.id);
    }
    const [oldest, second, newest] = ids as [string, string, string];
    const job = await bed.bus.send({
      action: 'scale',
      target: name,
      environment: 'dev',
      reason: 'less load',
      params: { replicas: 1 },
    });
    const pending = await waitForStatus(bed.bus.actions, job, 'pending_approval');
    const req = await bed.approvalRequest(String(pending.approval_id));
    // The plan itself (what the hash binds): the two newest go, by id.
    expect(req.plan).toMatchObject({
      action: 'scale',
      desired: { replicas: 1, remove_containers: [newest, second].sort() },
    });
    // The steps name them, one line each, and the one that stays.
    const goes = req.steps.filter((s) => s.startsWith('stop and remove'));
    const stays = req.steps.filter((s) => s.startsWith('keep'));
    expect(goes).toHaveLength(2);
    expect(goes.find((s) => s.includes(`${name}-3 (${newest.slice(0, 12)}`))).toBeDefined();
    expect(goes.find((s) => s.includes(`${name}-2 (${second.slice(0, 12)}`))).toBeDefined();
    expect(goes.join('\n')).not.toContain(oldest.slice(0, 12));
    expect(stays).toEqual([expect.stringContaining(`container ${name} (${oldest.slice(0, 12)}`)]);
    expect(await runningOf(name)).toEqual([name, `${name}-2`, `${name}-3`].sort());

    await bed.warden.decide(bed.approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bed.bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed', approval_id: req.approval_id });
    expect(await runningOf(name)).toEqual([name]);
  });
});

describe('data deleted without an archive', () => {
  async function serviceWithVolume(environment: 'staging' | 'dev') {
    const name = named(`noarch-${environment}`);
    const volume = recordedName(volumes, 'helm-test-noarch-data');
    await testDocker().createVolume({ Name: volume, Labels: testLabels() });
    await startVolumeService({
      service: name,
      environment,
      volume,
      script: 'echo precious > /data/rows.txt',
    });
    return { name, volume };
  }

  async function parkedRemove(environment: 'staging' | 'dev') {
    const { name, volume } = await serviceWithVolume(environment);
    const job = await bed.bus.send({
      action: 'remove',
      target: name,
      environment,
      reason: 'throw the data away',
      params: { volumes: true, archive: false },
    });
    const result = await settled(job);
    expect(result).toMatchObject({ status: 'pending_approval' });
    const req = await bed.approvalRequest(String(result.approval_id));
    expect(req.plan).toMatchObject({
      action: 'remove',
      environment,
      desired: { volumes: true, archive: false },
    });
    expect(
      req.steps.some((s) => s.includes(`volume ${volume}`) && s.includes('deleted without archive')),
    ).toBe(true);
    // Parked: nothing changed.
    await new Promise((r) => setTimeout(r, 500));
    expect(await runningOf(name)).toEqual([name]);
    expect(await volumeExists(volume)).toBe(true);
    return { name, volume, job, req };
  }

  it('in staging parks for Warden, changes nothing until approved, then deletes', async () => {
    const { name, volume, job, req } = await parkedRemove('staging');
    await bed.warden.decide(bed.approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bed.bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed', approval_id: req.approval_id });
    expect(await runningOf(name)).toEqual([]);
    expect(await volumeExists(volume)).toBe(false);
  });

  it('in dev parks for Warden, and a denial changes nothing', async () => {
    const { name, volume, job, req } = await parkedRemove('dev');
    await bed.warden.decide(bed.approvals, req, 'denied', { reason: 'keep the data' });
    const result = (await job.waitUntilFinished(bed.bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'denied' } });
    expect(await runningOf(name)).toEqual([name]);
    expect(await volumeExists(volume)).toBe(true);
  });
});
