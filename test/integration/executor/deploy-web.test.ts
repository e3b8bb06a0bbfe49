// Deploy and rollback of a host-network web service on the real engine: web:1 → web:2 by image_id,
// rollback to a named release (kept container), rollback after the kept container is gone
// (recreated from the record), the new image's defaults, and identity labels an image cannot change.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployService } from '../../../src/executor/deploy.js';
import { defaultRollbackTarget, planReleaseIds } from '../../../src/releases/release-info.js';
import { releaseTag } from '../../../src/releases/release-store.js';
import { rollbackService } from '../../../src/executor/rollback.js';
import { removeTestContainers, testDocker, WEB_IMAGE_V1, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  dockerCalls,
  exists,
  expectEveryChangeAnnounced,
  type Harness,
  httpText,
  inspect,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
  type StartedContainer,
  startServiceContainer,
  watchEngineEvents,
} from './exec-harness.js';

const RELABEL = 'helm-test/web-relabel:1';
const meta = { requestId: 't:deploy-web', approvalId: null, environment: 'production', opId: 'op-test' };

let h: Harness;
const services: string[] = [];
let web1Id: string;
let web2Id: string;

beforeAll(async () => {
  h = makeHarness({ stabilityWindowMs: 1_000, healthTimeoutMs: 15_000 });
  web1Id = (await testDocker().getImage(WEB_IMAGE_V1).inspect()).Id;
  web2Id = (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id;
});
afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags(services);
  if (h) removeHarnessDir(h.memoryDir);
});

function deployDesired(image: string, imageId: string, replaces: string | null, next: string) {
  return {
    image,
    image_id: imageId,
    manifest_digest: null,
    artifact_id: `forge:${next}`,
    strategy: 'recreate' as const,
    replaces_release: replaces,
    new_release: next,
  };
}

describe('web:1 → web:2 and back', () => {
  const service = uniqueName('web');
  let old: StartedContainer;

  it('deploys web:2 by image_id: the same port answers version 2, r1 → r2 recorded, r1 kept, every change announced', async () => {
    services.push(service);
    old = await startServiceContainer({ service, labels: { 'ghost.environment': 'production' } });
    expect(await httpText(old.port!)).toContain('version 1');
    const ids = await planReleaseIds(h.ctx.releases, service, [await inspect(old.id)]);
    expect(ids).toEqual({ replaces_release: 'r1', new_release: 'r2' });

    const events = await watchEngineEvents();
    const started = performance.now();
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      deployDesired(WEB_IMAGE_V2, web2Id, 'r1', 'r2'),
      meta,
    );
    const ms = Math.round(performance.now() - started);
    console.log(
      `[timing] deploy web:1 → web:2 (1 s stability window): ${ms} ms — ${JSON.stringify(out.ok && out.outcome)}`,
    );

    expect(out).toMatchObject({ ok: true, release: { id: 'r2', image: WEB_IMAGE_V2, image_id: web2Id } });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(
      new RegExp(
        `^deployed ${service} helm-test/web:2 \\(sha256:[0-9a-f]{12}…\\) as r2 in [0-9.]+ s; r1 kept for rollback$`,
      ),
    );
    expect(await httpText(old.port!)).toContain('version 2');

    // The new container: same name and port, the new image's defaults, Helm's labels, identity kept.
    const now = await inspect(old.name);
    expect(now.Id).not.toBe(old.id);
    expect(now.Image).toBe(web2Id);
    expect(now.State.Running).toBe(true);
    expect(now.Config.Env).toContain(`PORT=${old.port}`);
    expect(now.Config.Env).toContain('WEB_VERSION=2');
    expect(now.Config.Env).not.toContain('WEB_VERSION=1');
    expect(now.Config.Labels).toMatchObject({
      'helm.op': 'op-test',
      'helm.release': 'r2',
      'helm.previous': 'r1',
      'ghost.service': service,
      'ghost.environment': 'production',
      'helm.test.web-version': '2',
    });
    expect(now.HostConfig.NetworkMode).toBe('host');
    expect(now.HostConfig.Init).toBe(true);

    // The old container is kept, stopped, under its release's name.
    const kept = await inspect(`${old.name}-helm-r1`);
    expect(kept.Id).toBe(old.id);
    expect(kept.State.Running).toBe(false);

    // Release records, newest first, and Helm's tags on both images.
    const records = await h.ctx.releases.listReleases(service);
    expect(records.map((r) => r.id)).toEqual(['r2', 'r1']);
    expect(records[1]).toMatchObject({
      id: 'r1',
      adopted: true,
      image: WEB_IMAGE_V1,
      image_id: web1Id,
      previous: null,
    });
    expect(records[0]).toMatchObject({
      id: 'r2',
      adopted: false,
      image_id: web2Id,
      previous: 'r1',
      artifact_id: 'forge:r2',
      request_id: 't:deploy-web',
      op_id: 'op-test',
      environment: 'production',
    });
    expect(records[0]!.containers[0]!.config.env).toContainEqual({ name: 'PORT', value: String(old.port) });
    expect(records[0]!.config_digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await testDocker().getImage(releaseTag(service, 'r1').ref).inspect()).Id).toBe(web1Id);
    expect((await testDocker().getImage(releaseTag(service, 'r2').ref).inspect()).Id).toBe(web2Id);

    // The rollback document: releases, the helm command, manual commands with env names only.
    const doc = await readFile(join(h.memoryDir, 'rollback', `${service}.md`), 'utf8');
    expect(doc).toContain('## Current release');
    expect(doc).toContain(`- release: r2`);
    expect(doc).toContain(`- image id: ${web2Id}`);
    expect(doc).toContain(`- image id: ${web1Id}`);
    expect(doc).toContain('- artifact_id: forge:r2');
    expect(doc).toContain(`- config digest: ${records[0]!.config_digest}`);
    expect(doc).toContain(`helm request rollback ${service} --environment production`);
    expect(doc).toContain(`docker rename ${old.name}-helm-r1 ${old.name}`);
    expect(doc).toContain(' -e PORT ');
    expect(doc).not.toContain(`PORT=`);
    expect(doc).not.toContain(String(old.port));

    // Every Docker change was announced right before it was made…
    expect(h.steps()).toEqual([
      'tag_release_image',
      'stop_old',
      'rename_old',
      'create_new',
      'start_new',
      'tag_release_image',
    ]);
    expectEveryChangeAnnounced(h.log);
    // …and the engine saw exactly those changes (no other path changed anything).
    const seen = (await events.stop()).filter(
      (e) =>
        (e.Type === 'container' && (e.id === old.id || e.id === now.Id)) ||
        (e.Type === 'image' && e.Action === 'tag' && e.name.startsWith('helm-release/')),
    );
    const count = (type: string, action: string) =>
      seen.filter((e) => e.Type === type && e.Action === action).length;
    expect(count('container', 'create')).toBe(1);
    expect(count('container', 'start')).toBe(1);
    expect(count('container', 'stop')).toBe(1);
    expect(count('container', 'rename')).toBe(1);
    expect(count('container', 'destroy')).toBe(0);
    expect(count('image', 'tag')).toBeGreaterThanOrEqual(2);
    expect(dockerCalls(h.log).filter((m) => m === 'tagImage')).toHaveLength(2);
  });

  it('names r1 as the default rollback target, and refuses a plan whose image id for it is not the record’s', async () => {
    h.reset();
    expect(await defaultRollbackTarget(h.ctx.releases, service, [await inspect(old.name)])).toEqual({
      to_release: 'r1',
      image_id: web1Id,
    });
    const out = await rollbackService(h.ctx, await resolveService(service), 'r1', {
      ...meta,
      expectImageId: web2Id,
    });
    expect(out).toMatchObject({ ok: false, code: 'stale_plan' });
    expect(h.log).toEqual([]);
  });

  it('rolls back to the named release r1: its kept container runs again, r2 is kept', async () => {
    h.reset();
    const newId = (await inspect(old.name)).Id;
    const out = await rollbackService(h.ctx, await resolveService(service), 'r1', {
      ...meta,
      expectImageId: web1Id,
    });
    expect(out).toMatchObject({ ok: true, release: { id: 'r1', image_id: web1Id } });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(
      new RegExp(
        `^rolled back ${service} to r1 \\(helm-test/web:1, sha256:[0-9a-f]{12}…\\) in [0-9.]+ s \\(its kept containers started again\\); healthy: Docker health: healthy; r2 kept$`,
      ),
    );
    expect(await httpText(old.port!)).toContain('version 1');
    expect((await inspect(old.name)).Id).toBe(old.id);
    expect((await inspect(`${old.name}-helm-r2`)).Id).toBe(newId);
    expect((await inspect(`${old.name}-helm-r2`)).State.Running).toBe(false);
    expect((await h.ctx.releases.currentRelease(service))?.id).toBe('r1');
    expect(h.steps()).toEqual(['stop_old', 'rename_old', 'rename_kept', 'start_new']);
    expectEveryChangeAnnounced(h.log);
    const doc = await readFile(join(h.memoryDir, 'rollback', `${service}.md`), 'utf8');
    expect(doc).toContain('rollback from r2 to r1');
    expect(doc).toMatch(/## Current release\n\n- release: r1/);
    expect(doc).toMatch(/## Previous release\n\n- release: r2/);
  });

  it('without `to`, an adopted first release has nothing to roll back to', async () => {
    h.reset();
    const out = await rollbackService(h.ctx, await resolveService(service), null, meta);
    expect(out).toMatchObject({ ok: false, code: 'rollback_unavailable' });
    expect(h.log).toEqual([]);
  });

  it('rolls back to r2 after its kept container was removed: recreated from the record and Helm’s tag', async () => {
    h.reset();
    await testDocker().getContainer(`${old.name}-helm-r2`).remove({ force: true });
    const out = await rollbackService(h.ctx, await resolveService(service), 'r2', meta);
    expect(out).toMatchObject({ ok: true, release: { id: 'r2' } });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toContain('(recreated from its record)');
    expect(await httpText(old.port!)).toContain('version 2');
    const now = await inspect(old.name);
    expect(now.Image).toBe(web2Id);
    expect(now.Config.Image).toBe(releaseTag(service, 'r2').ref);
    expect(now.Config.Labels).toMatchObject({
      'helm.release': 'r2',
      'helm.previous': 'r1',
      'ghost.environment': 'production',
    });
    expect(now.Config.Env).toContain(`PORT=${old.port}`);
    expect(h.steps()).toEqual(['stop_old', 'rename_old', 'create_new', 'start_new']);
    expectEveryChangeAnnounced(h.log);
    const r2 = await h.ctx.releases.getRelease(service, 'r2');
    expect(r2?.containers[0]?.id).toBe(now.Id);
  });
});

describe('image defaults and identity labels', () => {
  it('runs with the new image’s own defaults; its LABEL ghost.environment=dev does not change the environment', async () => {
    h.reset();
    const service = uniqueName('relabel');
    services.push(service);
    const old = await startServiceContainer({ service, labels: { 'ghost.environment': 'production' } });
    const relabel = await testDocker().getImage(RELABEL).inspect();
    expect(relabel.Config.Labels?.['ghost.environment']).toBe('dev');
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      deployDesired(RELABEL, relabel.Id, 'r1', 'r2'),
      meta,
    );
    expect(out.ok).toBe(true);
    const now = await inspect(old.name);
    expect(now.Config.Labels['ghost.environment']).toBe('production');
    expect(now.Config.Labels['helm.test.image']).toBe('web-relabel');
    expect(now.Config.Env).toEqual(
      expect.arrayContaining([`PORT=${old.port}`, 'WEB_VERSION=relabel', 'GREETING=hello-from-relabel']),
    );
    expect(now.Config.WorkingDir).toBe('/www');
    expect(await httpText(old.port!)).toContain('relabel');
  });

  it('refuses an image that would give the service an identity label it does not have; nothing changes', async () => {
    h.reset();
    const service = uniqueName('nolabel');
    services.push(service);
    const old = await startServiceContainer({ service });
    const relabel = await testDocker().getImage(RELABEL).inspect();
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      deployDesired(RELABEL, relabel.Id, 'r1', 'r2'),
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'artifact_mismatch' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toContain('ghost.environment=dev');
    expect(out.message).toContain('nothing was changed');
    expect(h.log).toEqual([]);
    expect((await inspect(old.name)).Id).toBe(old.id);
    expect((await inspect(old.name)).State.Running).toBe(true);
  });

  it('answers start-first for a service the proxy does not route with a clear refusal and changes nothing', async () => {
    h.reset();
    const service = uniqueName('sf');
    const old = await startServiceContainer({ service, waitHealthy: false });
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      { ...deployDesired(WEB_IMAGE_V2, web2Id, 'r1', 'r2'), strategy: 'start-first' },
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'not_supported' });
    expect(out.ok ? '' : out.message).toMatch(/start-first needs the front proxy.*is not routed through it/);
    expect(h.log).toEqual([]);
    expect(await exists(`${old.name}-helm-r1`)).toBe(false);
  });
});
