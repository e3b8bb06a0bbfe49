// prune on the real engine, planned the way the gate plans it (planInputs), with a release store that
// keeps 2 releases: a service deployed v1 (found, adopted as r1) → v2 (r2) → v3 (r3) → v1 (r4). The
// plan lists exactly the kept container Helm created for r2 and the image only r2 tags; prune keeps
// the container Helm adopted (not its own), the kept release's container, and every image a kept
// release tags (v1 is r4's, v3 is r3's); an image still used by a container is skipped and named; an
// item that no longer qualifies is skipped; nothing else is touched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionRequestSchema } from '../../../src/contracts/index.js';
import type { DockerOps } from '../../../src/docker/docker-ports.js';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import { deployService } from '../../../src/executor/deploy.js';
import type { ExecContext, ExecMeta } from '../../../src/executor/exec-context.js';
import {
  METHOD_OF_MAINTENANCE_STEP,
  type MaintenanceStepName,
} from '../../../src/executor/maintenance-steps.js';
import { pruneHost } from '../../../src/executor/prune.js';
import { planReleaseIds } from '../../../src/releases/release-info.js';
import { makeReleaseStore } from '../../../src/releases/release-store.js';
import { planInputs } from '../../../src/observe/plan-inputs.js';
import { removeTestContainers, testDocker, testLabels } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  exists,
  type Harness,
  inspect,
  type LogEntry,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
  startServiceContainer,
} from './exec-harness.js';

const meta: ExecMeta = { requestId: null, approvalId: null, environment: 'dev' };
const service = uniqueName('pruned');
const repo = `helm-test/${uniqueName('prune')}`;
const reads = makeDockerReads(process.env['DOCKER_HOST']);
const images: Record<string, string> = {};
let h: Harness;
let ctx: ExecContext;

beforeAll(async () => {
  h = makeHarness({ stabilityWindowMs: 300 });
  const docker = new Proxy(h.ctx.docker, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (prop === 'removeVolume' || prop === 'removeImage')
        return (...args: unknown[]) => {
          h.log.push({ kind: 'docker', method: prop, args, at: Date.now() });
          return (value as (...a: unknown[]) => unknown)(...args);
        };
      return value;
    },
  }) as DockerOps;
  ctx = { ...h.ctx, docker, releases: makeReleaseStore(h.memoryDir, { keep: 2 }) };

  // Three images of our own (worker:1 with a label each): v1, v2, v3.
  for (const v of ['v1', 'v2', 'v3']) {
    const c = await testDocker().createContainer({ Image: 'helm-test/worker:1', Labels: testLabels() });
    await c.commit({ repo, tag: v, changes: `LABEL helm.test.prune=${repo}-${v}` });
    await c.remove();
    images[v] = (await testDocker().getImage(`${repo}:${v}`).inspect()).Id;
  }
  await startServiceContainer({
    service,
    name: service,
    image: `${repo}:v1`,
    port: null,
    labels: { 'ghost.environment': 'dev' },
  });
  for (const v of ['v2', 'v3', 'v1']) {
    const ids = await planReleaseIds(ctx.releases, service, [await inspect(service)]);
    const out = await deployService(
      ctx,
      await resolveService(service),
      {
        image: `${repo}:${v}`,
        image_id: images[v]!,
        manifest_digest: null,
        artifact_id: null,
        strategy: 'recreate',
        replaces_release: ids.replaces_release,
        new_release: ids.new_release,
      },
      meta,
    );
    if (!out.ok) throw new Error(`deploy of ${v}: ${out.message}`);
  }
  // Our own tags go: from now on Helm's release tags are the only ones.
  for (const v of ['v1', 'v2', 'v3']) await testDocker().getImage(`${repo}:${v}`).remove({ noprune: true });
}, 90_000);

afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags([service]);
  for (const id of Object.values(images))
    await testDocker()
      .getImage(id)
      .remove({ noprune: true })
      .catch(() => undefined);
  if (h) removeHarnessDir(h.memoryDir);
});

function expectAnnounced(log: readonly LogEntry[]): void {
  for (const [i, e] of log.entries()) {
    if (e.kind !== 'docker') continue;
    const before = log[i - 1];
    expect(before?.kind, `docker ${e.method} (entry ${i}) was not announced`).toBe('announce');
    const step = (before as { step: MaintenanceStepName }).step;
    expect(METHOD_OF_MAINTENANCE_STEP[step], `step ${step} before docker ${e.method}`).toBe(e.method);
  }
}

async function items(what: 'images' | 'containers'): Promise<string[]> {
  const request = ActionRequestSchema.parse({
    action: 'prune',
    target: 'local',
    environment: 'dev',
    reason: 'tidy up',
    params: { what },
  });
  const out = await planInputs({ request, service: 'local', docker: reads, releases: ctx.releases });
  return [...(out.pruneItems ?? [])];
}

async function imageExists(id: string): Promise<boolean> {
  return (await reads.listImages()).some((i) => i.id === id);
}

describe('prune', () => {
  it('the releases: r3 and r4 kept; r1 (adopted) and r2 superseded', async () => {
    expect((await ctx.releases.listReleases(service)).map((r) => r.id)).toEqual(['r4', 'r3']);
    const r2 = await inspect(`${service}-helm-r2`);
    expect(r2.Config.Labels).toMatchObject({ 'helm.release': 'r2' });
    expect((await inspect(`${service}-helm-r1`)).Config.Labels?.['helm.op']).toBeUndefined();
  });

  it('images: plans exactly the image only r2 tags; skips it while a container uses it', async () => {
    const planned = await items('images');
    expect(planned).toEqual([images['v2']]);
    h.reset();
    const out = await pruneHost(ctx, 'local', { what: 'images', items: planned });
    expect(out).toMatchObject({ ok: true, data: { deleted: [] } });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toContain(`in use by ${service}-helm-r2`);
    expect(h.log).toEqual([]);
    expect(await imageExists(images['v2']!)).toBe(true);
  });

  it('containers: plans exactly the kept container Helm made for r2, and removes it alone', async () => {
    const r2 = (await inspect(`${service}-helm-r2`)).Id;
    const planned = await items('containers');
    expect(planned).toEqual([r2]);
    h.reset();
    const out = await pruneHost(ctx, 'local', { what: 'containers', items: planned });
    console.log(`[prune] containers: ${out.ok ? out.outcome : out.message}`);
    expect(out).toMatchObject({
      ok: true,
      data: { deleted: [{ id: r2, name: `${service}-helm-r2` }], skipped: [] },
    });
    expect(await exists(r2)).toBe(false);
    for (const kept of [service, `${service}-helm-r1`, `${service}-helm-r3`])
      expect(await exists(kept)).toBe(true);
    expect(h.steps()).toEqual(['prune_container']);
    expectAnnounced(h.log);
  });

  it('images again: the r2 image goes; every image a kept release tags stays', async () => {
    const planned = await items('images');
    expect(planned).toEqual([images['v2']]);
    h.reset();
    const out = await pruneHost(ctx, 'local', { what: 'images', items: planned });
    console.log(`[prune] images: ${out.ok ? out.outcome : out.message}`);
    expect(out).toMatchObject({ ok: true, data: { deleted: [{ id: images['v2'] }], skipped: [] } });
    expect(await imageExists(images['v2']!)).toBe(false);
    expect(await imageExists(images['v1']!)).toBe(true); // r4's (and r1's)
    expect(await imageExists(images['v3']!)).toBe(true); // r3's
    expect(h.steps()).toEqual(['prune_image_tag']);
    expectAnnounced(h.log);
    expect(await items('images')).toEqual([]);
    expect(await items('containers')).toEqual([]);
  });

  it('removes only what still qualifies: a plan naming a kept release changes nothing', async () => {
    const r3 = (await inspect(`${service}-helm-r3`)).Id;
    h.reset();
    const out = await pruneHost(ctx, 'local', { what: 'containers', items: [r3] });
    expect(out).toMatchObject({
      ok: true,
      data: { deleted: [], skipped: [{ id: r3, why: 'no longer a kept container of a superseded release' }] },
    });
    const img = await pruneHost(ctx, 'local', { what: 'images', items: [images['v3']!] });
    expect(img).toMatchObject({ ok: true, data: { deleted: [] } });
    expect(h.log).toEqual([]);
    expect(await exists(r3)).toBe(true);
  });
});
