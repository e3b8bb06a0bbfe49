// scale on the real engine: a worker service (no port, Docker HEALTHCHECK) scaled 1 → 3 → 0 → 2, its
// last replica kept stopped and disarmed as the template at 0 and started again from it; the refusal
// to run two replicas of a port-bound host-network service; a scale up whose new replica fails is
// undone. Every Docker change is announced first, by a step that stands for that call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecMeta } from '../../../src/executor/exec-context.js';
import {
  METHOD_OF_MAINTENANCE_STEP,
  type MaintenanceStepName,
} from '../../../src/executor/maintenance-steps.js';
import { scaleService } from '../../../src/executor/scale.js';
import { readScaleTemplate } from '../../../src/executor/scale-template.js';
import { setEnvService } from '../../../src/executor/set-env.js';
import { removeTestContainers, testDocker, testLabels } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  exists,
  type Harness,
  inspect,
  type LogEntry,
  makeHarness,
  removeHarnessDir,
  resolveService,
  startServiceContainer,
  waitDockerHealthy,
} from './exec-harness.js';

const meta: ExecMeta = { requestId: null, approvalId: null, environment: 'staging', opId: 'op-scale-test' };
const service = uniqueName('scaled');
const volumes: string[] = [];
let h: Harness;

beforeAll(async () => {
  h = makeHarness({ stabilityWindowMs: 500 });
  await startServiceContainer({
    service,
    name: service,
    image: 'helm-test/worker:1',
    port: null,
    labels: { 'ghost.environment': 'staging' },
    restartPolicy: 'always',
  });
});
afterAll(async () => {
  await removeTestContainers();
  for (const v of volumes)
    await testDocker()
      .getVolume(v)
      .remove()
      .catch(() => undefined);
  if (h) removeHarnessDir(h.memoryDir);
});

/** Every mutating call came right after the step that stands for it. */
function expectAnnounced(log: readonly LogEntry[]): void {
  for (const [i, e] of log.entries()) {
    if (e.kind !== 'docker') continue;
    const before = log[i - 1];
    expect(before?.kind, `docker ${e.method} (entry ${i}) was not announced`).toBe('announce');
    const step = (before as { step: MaintenanceStepName }).step;
    expect(METHOD_OF_MAINTENANCE_STEP[step], `step ${step} before docker ${e.method}`).toBe(e.method);
  }
}

async function serviceContainers(name: string) {
  const list = await testDocker().listContainers({
    all: true,
    filters: { label: [`ghost.service=${name}`] },
  });
  return list
    .map((c) => ({ name: c.Names[0]!.slice(1), state: c.State, id: c.Id }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

describe('scale a worker service', () => {
  it('from 1 to 3: two copies of replica 1, each healthy', async () => {
    h.reset();
    const t0 = performance.now();
    const out = await scaleService(h.ctx, await resolveService(service), 3, meta);
    const ms = performance.now() - t0;
    console.log(`[scale] 1 → 3: ${Math.round(ms)} ms — ${out.ok ? out.outcome : out.message}`);
    expect(out).toMatchObject({
      ok: true,
      data: { from: 1, to: 3, created: [`${service}-2`, `${service}-3`] },
    });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(new RegExp(`^scaled ${service} from 1 to 3 replicas in [0-9.]+ s`));
    const now = await serviceContainers(service);
    expect(now.map((c) => [c.name, c.state])).toEqual([
      [service, 'running'],
      [`${service}-2`, 'running'],
      [`${service}-3`, 'running'],
    ]);
    const copy = await inspect(`${service}-2`);
    const original = await inspect(service);
    expect(copy.Image).toBe(original.Image);
    expect(copy.State.Health?.Status).toBe('healthy');
    expect(copy.Config.Labels).toMatchObject({
      'ghost.service': service,
      'ghost.environment': 'staging',
      'helm.op': 'op-scale-test',
      ...testLabels(),
    });
    expect(copy.HostConfig).toMatchObject({
      NetworkMode: 'host',
      Init: true,
      RestartPolicy: { Name: 'always' },
    });
    expect(h.steps()).toEqual(['create_replica', 'start_replica', 'create_replica', 'start_replica']);
    expectAnnounced(h.log);
  });

  it('to 0: the newest go first; the last is stopped, disarmed and kept as the template', async () => {
    h.reset();
    const out = await scaleService(h.ctx, await resolveService(service), 0, meta);
    console.log(`[scale] 3 → 0: ${out.ok ? out.outcome : out.message}`);
    expect(out).toMatchObject({
      ok: true,
      data: { from: 3, to: 0, removed: [`${service}-3`, `${service}-2`], template: service },
    });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toContain(`${service} stays stopped as the template for a later scale up`);
    expect((await serviceContainers(service)).map((c) => [c.name, c.state])).toEqual([[service, 'exited']]);
    const template = await inspect(service);
    expect(template.HostConfig.RestartPolicy?.Name).toBe('no');
    expect(await readScaleTemplate(h.memoryDir, service)).toMatchObject({
      template_id: template.Id,
      restart_policy: { Name: 'always' },
    });
    expect(h.steps()).toEqual([
      'stop_replica',
      'remove_replica',
      'stop_replica',
      'remove_replica',
      'stop_template',
      'disarm_template',
    ]);
    expectAnnounced(h.log);
    // Again at 0: nothing to do.
    h.reset();
    const again = await scaleService(h.ctx, await resolveService(service), 0, meta);
    expect(again).toMatchObject({ ok: true });
    expect(h.log).toEqual([]);
  });

  it('at 0, set_env refuses to recreate (and so start) the template', async () => {
    h.reset();
    const out = await setEnvService(
      h.ctx,
      await resolveService(service),
      { set: { MODE: { value: 'x' } }, unset: [] },
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'not_supported' });
    expect(h.log).toEqual([]);
  });

  it('back to 2: the template is rearmed and started, then one copy of it', async () => {
    h.reset();
    const templateId = (await inspect(service)).Id;
    const out = await scaleService(h.ctx, await resolveService(service), 2, meta);
    console.log(`[scale] 0 → 2: ${out.ok ? out.outcome : out.message}`);
    expect(out).toMatchObject({
      ok: true,
      data: { from: 0, to: 2, started: [service], created: [`${service}-2`] },
    });
    const back = await inspect(service);
    expect(back.Id).toBe(templateId);
    expect(back.State.Running).toBe(true);
    expect(back.HostConfig.RestartPolicy?.Name).toBe('always');
    expect((await inspect(`${service}-2`)).HostConfig.RestartPolicy?.Name).toBe('always');
    expect(h.steps()).toEqual(['rearm_template', 'start_stopped', 'create_replica', 'start_replica']);
    expect(await readScaleTemplate(h.memoryDir, service)).toBeNull();
    expectAnnounced(h.log);
  });
});

describe('scale refusals and failures', () => {
  it('refuses more than one replica of a host-network service that binds a port, and changes nothing', async () => {
    const web = uniqueName('scaleweb');
    const c = await startServiceContainer({
      service: web,
      name: web,
      labels: { 'ghost.environment': 'dev' },
    });
    h.reset();
    const out = await scaleService(h.ctx, await resolveService(web), 2, meta);
    expect(out).toMatchObject({ ok: false, code: 'not_supported' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toContain(`it listens on host port ${c.port} (env PORT) on the host network`);
    expect(out.message).toContain('nothing was changed');
    expect(h.log).toEqual([]);
    expect((await serviceContainers(web)).map((x) => x.name)).toEqual([web]);
    // Scaling it to 1 (what it runs) is fine.
    expect(await scaleService(h.ctx, await resolveService(web), 1, meta)).toMatchObject({ ok: true });
  });

  it('undoes a scale up whose new replica fails its health check', async () => {
    const name = uniqueName('scalefail');
    const volume = `helm-test-${uniqueName('lock')}`;
    volumes.push(volume);
    await testDocker().createVolume({ Name: volume, Labels: testLabels() });
    // Replica 1 takes a lock on a shared volume; any copy finds it taken and exits 3.
    const c = await testDocker().createContainer({
      name,
      Image: 'helm-test/worker:1',
      Cmd: [
        '/bin/sh',
        '-c',
        'mkdir /shared/lock || { echo "lock taken" >&2; exit 3; }; touch /tmp/ready; while true; do sleep 1; done',
      ],
      Labels: testLabels({ 'ghost.service': name, 'ghost.environment': 'staging' }),
      HostConfig: {
        NetworkMode: 'host',
        Init: true,
        Mounts: [{ Type: 'volume', Source: volume, Target: '/shared' }],
      },
    });
    await c.start();
    await waitDockerHealthy(c.id);
    h.reset();
    const out = await scaleService(h.ctx, await resolveService(name), 3, meta);
    expect(out).toMatchObject({
      ok: false,
      code: 'health_check_failed',
      data: { failed_replica: `${name}-2`, undone: true },
    });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toContain(`Undone: ${name} runs 1 replica as before`);
    expect((out.data!['last_logs'] as Array<{ text: string }>).map((l) => l.text)).toContain('lock taken');
    expect(await exists(`${name}-2`)).toBe(false);
    expect((await inspect(name)).State.Running).toBe(true);
    expect(h.steps()).toEqual(['create_replica', 'start_replica', 'undo_remove_replica']);
    expectAnnounced(h.log);
  });
});
