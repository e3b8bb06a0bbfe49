// Failed deploys on the real engine: an image that exits at once, one that crashes inside the
// stability window, one that never turns healthy (Docker says unhealthy; or the timeout runs out),
// an image_id mismatch, a first release that fails, and a lease lost half-way. Each is rolled back
// or refused, the previous release is healthy afterwards, and the outcome says what happened.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployService } from '../../../src/executor/deploy.js';
import {
  freePort,
  removeTestContainers,
  testDocker,
  testLabels,
  WEB_IMAGE_V1,
  WEB_IMAGE_V2,
} from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  dockerCalls,
  exists,
  expectEveryChangeAnnounced,
  type Harness,
  httpText,
  inspect,
  LeaseLostError,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
  startServiceContainer,
} from './exec-harness.js';

const CANARY = 'canary-7f3e91d2-secret';
const meta = { requestId: 't:deploy-failures', approvalId: null, environment: 'production' };
const services: string[] = [];
const harnesses: Harness[] = [];

function harness(opts: Parameters<typeof makeHarness>[0] = {}): Harness {
  const h = makeHarness({ stabilityWindowMs: 1_000, healthTimeoutMs: 15_000, ...opts });
  h.redactor.add(CANARY);
  harnesses.push(h);
  return h;
}

const imageIds: Record<string, string> = {};
beforeAll(async () => {
  for (const image of [
    WEB_IMAGE_V1,
    WEB_IMAGE_V2,
    'helm-test/web-faulty:crash-now',
    'helm-test/web-faulty:crash-later',
    'helm-test/web-faulty:unhealthy',
  ])
    imageIds[image] = (await testDocker().getImage(image).inspect()).Id;
});
afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags(services);
  for (const h of harnesses) removeHarnessDir(h.memoryDir);
});

function desired(image: string, next = 'r2', replaces: string | null = 'r1') {
  return {
    image,
    image_id: imageIds[image]!,
    manifest_digest: null,
    artifact_id: null,
    strategy: 'recreate' as const,
    replaces_release: replaces,
    new_release: next,
  };
}

/** The service's containers as Docker lists them now (kept ones included). */
async function containersOf(service: string) {
  return testDocker().listContainers({ all: true, filters: { label: [`ghost.service=${service}`] } });
}

async function expectRestored(old: { id: string; name: string; port: number | null }) {
  const now = await inspect(old.name);
  expect(now.Id).toBe(old.id);
  expect(now.State.Running).toBe(true);
  expect(now.State.Health?.Status).toBe('healthy');
  expect(await httpText(old.port!)).toContain('version 1');
}

describe('a deploy that fails is rolled back', () => {
  it('an image that exits at once: rolled back, old container restarted with its restart policy, last logs redacted', async () => {
    const h = harness();
    const service = uniqueName('crashnow');
    services.push(service);
    const old = await startServiceContainer({
      service,
      restartPolicy: 'always',
      env: { WEB_BANNER: CANARY },
    });
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      desired('helm-test/web-faulty:crash-now'),
      meta,
    );

    expect(out).toMatchObject({ ok: false, code: 'rolled_back' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toMatch(
      new RegExp(
        `^deploy of helm-test/web-faulty:crash-now \\(sha256:[0-9a-f]{12}…\\) to ${service} as r2 failed: ${old.name}: it (exited with code 3[^.]*|crashed and Docker restarted it \\(restart count [0-9]+\\))\\. Rolled back: r1 runs again and is healthy \\(.+\\)$`,
      ),
    );
    expect(out.data).toMatchObject({
      failed_release: 'r2',
      restored_release: 'r1',
      failed_replica: old.name,
    });
    const logs = out.data!['last_logs'] as Array<{ text: string; stream: string }>;
    expect(logs.map((l) => l.text)).toContain('helm-test web faulty: crashing at start');
    expect(logs.some((l) => l.text.includes('[redacted]'))).toBe(true);
    expect(JSON.stringify(out)).not.toContain(CANARY);
    expect(h.logLines.join('')).not.toContain(CANARY);

    await expectRestored(old);
    expect((await inspect(old.name)).HostConfig.RestartPolicy?.Name).toBe('always');
    expect((await containersOf(service)).map((c) => c.Id)).toEqual([old.id]);

    // A new container with restart policy "always" may be restarting when the undo starts: stop_new then.
    expect(h.steps().filter((s) => s !== 'stop_new')).toEqual([
      'tag_release_image',
      'stop_old',
      'disarm_old',
      'rename_old',
      'create_new',
      'start_new',
      'remove_new',
      'rename_old_back',
      'rearm_old',
      'start_old',
    ]);
    expectEveryChangeAnnounced(h.log);

    // Only the release Helm found is recorded; its canary env value is withheld, never stored.
    const records = await h.ctx.releases.listReleases(service);
    expect(records.map((r) => r.id)).toEqual(['r1']);
    expect(records[0]!.containers[0]!.config.env).toContainEqual({ name: 'WEB_BANNER', withheld: true });
    const stored = await readFile(join(h.memoryDir, 'releases', `${service}.json`), 'utf8');
    expect(stored).not.toContain(CANARY);
    const doc = await readFile(join(h.memoryDir, 'rollback', `${service}.md`), 'utf8');
    expect(doc).toContain('failed deploy of r2 (rolled back)');
    expect(doc).not.toContain(CANARY);
  });

  it('an image that crashes after 6 s, inside the 10 s stability window: rolled back', async () => {
    // Load-proof margins: the image turns healthy within ~1 s (3 s on a loaded bed) and crashes 6 s
    // after it starts, so the crash lands inside the window however late the health check passed.
    // The old container's own CRASH_AFTER_S is what the new one keeps (the deploy keeps its env).
    const h = harness({ stabilityWindowMs: 10_000 });
    const service = uniqueName('crashlater');
    services.push(service);
    const old = await startServiceContainer({ service, env: { CRASH_AFTER_S: '6' } });
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      desired('helm-test/web-faulty:crash-later'),
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'rolled_back', data: { restored_release: 'r1' } });
    if (out.ok) throw new Error('unreachable');
    expect(out.data!['reason']).toMatch(/it exited with code 3 within the 10(\.0)? s stability window/);
    const logs = out.data!['last_logs'] as Array<{ text: string }>;
    expect(logs.map((l) => l.text)).toContain('helm-test web faulty: crashing now');
    await expectRestored(old);
    expect((await containersOf(service)).map((c) => c.Id)).toEqual([old.id]);
    expectEveryChangeAnnounced(h.log);
  });

  it('an image that never turns healthy: Docker calls it unhealthy, rolled back', async () => {
    const h = harness();
    const service = uniqueName('unhealthy');
    services.push(service);
    const old = await startServiceContainer({ service });
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      desired('helm-test/web-faulty:unhealthy'),
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'rolled_back' });
    if (out.ok) throw new Error('unreachable');
    expect(out.data!['reason']).toMatch(/Docker reports it unhealthy/);
    await expectRestored(old);
    expectEveryChangeAnnounced(h.log);
  });

  it('an image whose health check does not pass within the health timeout: rolled back', async () => {
    const h = harness({ healthTimeoutMs: 1_500 });
    const service = uniqueName('slow');
    services.push(service);
    const old = await startServiceContainer({ service });
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      desired('helm-test/web-faulty:unhealthy'),
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'rolled_back' });
    if (out.ok) throw new Error('unreachable');
    expect(out.data!['reason']).toMatch(
      /its health check \(the image's Docker HEALTHCHECK\) did not pass within 1\.5 s/,
    );
    await expectRestored(old);
  });
});

describe('refused or aborted before harm', () => {
  it('an image_id mismatch is refused before any change', async () => {
    const h = harness();
    const service = uniqueName('mismatch');
    services.push(service);
    const old = await startServiceContainer({ service });
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      { ...desired(WEB_IMAGE_V2), image_id: imageIds[WEB_IMAGE_V1]! },
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'artifact_mismatch' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toBe(
      `image ${WEB_IMAGE_V2} is ${imageIds[WEB_IMAGE_V2]} on this engine, not the expected ${imageIds[WEB_IMAGE_V1]}; nothing was changed`,
    );
    expect(h.log).toEqual([]);
    await expectRestored(old);
    expect(await h.ctx.releases.listReleases(service)).toEqual([]);
  });

  it('a production deploy without image_id or manifest_digest is refused', async () => {
    const h = harness();
    const service = uniqueName('noid');
    await startServiceContainer({ service, waitHealthy: false });
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      { ...desired(WEB_IMAGE_V2), image_id: null },
      meta,
    );
    expect(out).toMatchObject({ ok: false, code: 'invalid_request' });
    expect(h.log).toEqual([]);
  });

  it('a lease lost before create_new stops everything at once: the error comes out, no undo runs', async () => {
    const h = harness({ abortAt: 'create_new' });
    const service = uniqueName('lease');
    services.push(service);
    const old = await startServiceContainer({ service });
    await expect(
      deployService(h.ctx, await resolveService(service), desired(WEB_IMAGE_V2), meta),
    ).rejects.toBeInstanceOf(LeaseLostError);
    expect(h.steps()).toEqual(['tag_release_image', 'stop_old', 'rename_old', 'create_new']);
    expect(dockerCalls(h.log)).toEqual(['tagImage', 'stopContainer', 'renameContainer']);
    // Left for recovery exactly as it was at the abort: the old container stopped and kept.
    const kept = await inspect(`${old.name}-helm-r1`);
    expect(kept.Id).toBe(old.id);
    expect(kept.State.Running).toBe(false);
    expect(await exists(old.name)).toBe(false);
  });
});

describe("a service's first release", () => {
  it('that fails leaves nothing running and says so', async () => {
    const h = harness();
    const service = uniqueName('first');
    services.push(service);
    h.ctx.definitions = async (s) => (s === service ? { env: { PORT: '8080' }, labels: testLabels() } : null);
    const out = await deployService(
      h.ctx,
      { name: service, via: 'ghost.service', composeProject: null, containers: [] },
      desired('helm-test/web-faulty:crash-now', 'r1', null),
      { ...meta, environment: 'staging' },
    );
    expect(out).toMatchObject({
      ok: false,
      code: 'rolled_back',
      data: { failed_release: 'r1', restored_release: null },
    });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toContain(
      `It was ${service}'s first release: the new container was removed and nothing runs`,
    );
    expect(await containersOf(service)).toEqual([]);
    expect(h.steps()).toEqual(['create_new', 'start_new', 'remove_new']);
    expectEveryChangeAnnounced(h.log);
    expect(await h.ctx.releases.listReleases(service)).toEqual([]);
  });

  it('that succeeds is recorded as r1 under the service’s name', async () => {
    const h = harness();
    const service = uniqueName('first');
    services.push(service);
    const p = await freePort();
    h.ctx.definitions = async () => ({ env: { PORT: String(p) }, labels: testLabels() });
    const out = await deployService(
      h.ctx,
      { name: service, via: 'ghost.service', composeProject: null, containers: [] },
      desired(WEB_IMAGE_V1, 'r1', null),
      { ...meta, environment: 'staging' },
    );
    expect(out).toMatchObject({ ok: true, release: { id: 'r1', image_id: imageIds[WEB_IMAGE_V1] } });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(
      new RegExp(`^deployed ${service} helm-test/web:1 \\(sha256:[0-9a-f]{12}…\\) as r1 in [0-9.]+ s$`),
    );
    const c = await inspect(service);
    expect(c.Config.Labels).toMatchObject({
      'ghost.service': service,
      'ghost.environment': 'staging',
      'helm.release': 'r1',
    });
    expect(await httpText(p)).toContain('version 1');
    expect((await h.ctx.releases.currentRelease(service))?.id).toBe('r1');
  });
});
