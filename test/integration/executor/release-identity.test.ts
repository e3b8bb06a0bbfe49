// The check every release change makes before it reports executed (verify-release-identity.ts), on
// plain containers on the real engine: after the change, the containers that carry the service's
// identity run the new release, read back from Docker. Each test injects one fault through the
// harness's Docker surface (the only fake: everything else is the real engine) that leaves a healthy
// container which is not the new release of the service: the change must fail with the truth and be
// rolled back, the service serving what it served before.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DockerOps } from '../../../src/docker/docker-ports.js';
import { deployService } from '../../../src/executor/deploy.js';
import type { ExecContext, ExecMeta } from '../../../src/executor/exec-context.js';
import { rollbackService } from '../../../src/executor/rollback.js';
import { setEnvService } from '../../../src/executor/set-env.js';
import { uniqueName } from '../../helpers/containers.js';
import { removeTestContainers, testDocker, WEB_IMAGE_V1, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import {
  type Harness,
  httpText,
  inspect,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  expectRollbackFailed,
  resolveService,
  type StartedContainer,
  startLabelledStray,
  startServiceContainer,
} from './exec-harness.js';

const service = uniqueName('ident');
/** A second service, for the undo's own check. */
const undone = uniqueName('identback');
const meta: ExecMeta = { requestId: 't:identity', approvalId: null, environment: 'dev', opId: 'op-identity' };
let h: Harness;
let web: StartedContainer;
let v1 = '';
let v2 = '';

/** The harness's context with one Docker method replaced (the fault). */
function withFault<K extends keyof DockerOps>(
  method: K,
  fault: (real: DockerOps[K]) => DockerOps[K],
): ExecContext {
  const real = h.ctx.docker;
  const docker = new Proxy(real, {
    get: (target, prop, receiver) =>
      prop === method
        ? fault(Reflect.get(target, prop, receiver).bind(target))
        : Reflect.get(target, prop, receiver),
  });
  return { ...h.ctx, docker };
}

const deployV2 = {
  image: WEB_IMAGE_V2,
  manifest_digest: null,
  artifact_id: null,
  strategy: 'recreate' as const,
};

/** The service's one active container serves `version` on its port, under its own name. */
async function expectServing(version: string, imageId: string) {
  const now = await inspect(web.name);
  expect([now.Image, now.State.Running, now.Config.Labels['ghost.service']]).toEqual([
    imageId,
    true,
    service,
  ]);
  expect(await httpText(web.port!)).toContain(`version ${version}`);
}

beforeAll(async () => {
  h = makeHarness({ stabilityWindowMs: 500 });
  v1 = (await testDocker().getImage(WEB_IMAGE_V1).inspect()).Id;
  v2 = (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id;
  web = await startServiceContainer({ service, name: service, labels: { 'ghost.environment': 'dev' } });
});

afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags([service, undone]);
  if (h) removeHarnessDir(h.memoryDir);
});

describe('a release change is executed only when Docker shows the service running it', () => {
  it('deploy: a health-checked container without the service’s identity is failed and rolled back', async () => {
    // The fault: the new container is created without its ghost.service label (a stray instance).
    const ctx = withFault('createContainer', (create) => (options, guard) => {
      const { 'ghost.service': _dropped, ...labels } = options.Labels ?? {};
      return create({ ...options, Labels: labels }, guard);
    });
    const out = await deployService(
      ctx,
      await resolveService(service),
      { ...deployV2, image_id: v2, replaces_release: null, new_release: 'r2' },
      meta,
    );
    expect(out, JSON.stringify(out)).toMatchObject({ ok: false, code: 'rolled_back' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toMatch(
      new RegExp(
        `failed: after the change, Docker does not show ghost\\.service=${service} running r2: ${service}, which Helm started and health-checked, does not carry ghost\\.service=${service} \\(it is not the service\\); no container carries ghost\\.service=${service}\\. Rolled back: r1 runs again`,
      ),
    );
    await expectServing('1', v1);
    expect(
      await testDocker().listContainers({ all: true, filters: { name: [`^/${service}$`] } }),
    ).toHaveLength(1);
  });

  it('set_env: a new container without the variable as asked is failed and rolled back', async () => {
    // The fault: the asked variable never reaches the new container.
    const ctx = withFault(
      'createContainer',
      (create) => (options, guard) =>
        create({ ...options, Env: (options.Env ?? []).filter((e) => !e.startsWith('FEATURE=')) }, guard),
    );
    const out = await setEnvService(
      ctx,
      await resolveService(service),
      { set: { FEATURE: { value: 'on' } }, unset: [] },
      meta,
    );
    expect(out, JSON.stringify(out)).toMatchObject({ ok: false, code: 'rolled_back' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toMatch(
      new RegExp(
        `Docker does not show ghost\\.service=${service} running r[0-9]+: ${service} does not set FEATURE`,
      ),
    );
    await expectServing('1', v1);
    expect((await inspect(web.name)).Config.Env).not.toContain('FEATURE=on');
  });

  it('rollback: a container of the service left on the release being replaced is failed and rolled back', async () => {
    // A release to roll back from, deployed without a fault (its ids as the result names them).
    const deployed = await deployService(
      h.ctx,
      await resolveService(service),
      {
        ...deployV2,
        image_id: v2,
        replaces_release: null,
        new_release: await h.ctx.releases.nextReleaseId(service),
      },
      meta,
    );
    expect(deployed, JSON.stringify(deployed)).toMatchObject({ ok: true });
    if (!deployed.ok) throw new Error('unreachable');
    const current = deployed.release!.id;
    const back = (deployed.data as { previous_release: string }).previous_release;
    await expectServing('2', v2);
    // The fault: while the earlier release starts again, a copy of the current one carrying the
    // service's identity starts too.
    const copyName = `${service}-copy`;
    const now = await inspect(web.name);
    let copied = false;
    const ctx = withFault('startContainer', (start) => async (id) => {
      await start(id);
      if (copied) return;
      copied = true;
      await startLabelledStray({ name: copyName, image: now.Image, labels: now.Config.Labels });
    });
    try {
      const out = await rollbackService(ctx, await resolveService(service), null, meta);
      expect(copied).toBe(true);
      expect(out, JSON.stringify(out)).toMatchObject({ ok: false, code: 'rolled_back' });
      if (out.ok) throw new Error('unreachable');
      expect(out.message).toMatch(
        new RegExp(
          `^rollback of ${service} to ${back} .* failed: after the change, Docker does not show ghost\\.service=${service} running ${back}: ${copyName} runs image sha256:[0-9a-f]{12}… \\(release ${current}\\), not ${back}'s sha256:[0-9a-f]{12}…\\. ${current} runs again and is healthy`,
        ),
      );
      await expectServing('2', v2);
    } finally {
      await testDocker()
        .getContainer(copyName)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });
});

describe('a failed release is reported rolled back only when Docker shows the service back on the old one', () => {
  const copyName = `${undone}-copy`;

  it('deploy: an undo that leaves a container of the service on the failed release is rollback_failed', async () => {
    const old = await startServiceContainer({
      service: undone,
      name: undone,
      labels: { 'ghost.environment': 'dev' },
    });
    const oldLabels = (await inspect(old.id)).Config.Labels;
    // Two faults: the new container lacks the service's label (its deploy fails and is undone), and
    // when the old container starts again, a container of the failed release carrying the service's
    // identity starts too. The old one is back and healthy: only Docker's view of the service tells.
    let copied = false;
    const real = withFault('createContainer', (create) => (options, guard) => {
      const { 'ghost.service': _dropped, ...labels } = options.Labels ?? {};
      return create({ ...options, Labels: labels }, guard);
    });
    const ctx: ExecContext = {
      ...real,
      docker: new Proxy(real.docker, {
        get: (target, prop, receiver) =>
          prop === 'startContainer'
            ? async (id: string) => {
                await target.startContainer(id);
                if (id !== old.id || copied) return;
                copied = true;
                await startLabelledStray({
                  name: copyName,
                  image: WEB_IMAGE_V2,
                  labels: { ...oldLabels, 'helm.release': 'r2' },
                });
              }
            : Reflect.get(target, prop, receiver),
      }),
    };
    try {
      const out = await deployService(
        ctx,
        await resolveService(undone),
        { ...deployV2, image_id: v2, replaces_release: null, new_release: 'r2' },
        meta,
      );
      expect(copied).toBe(true);
      expectRollbackFailed(
        out,
        new RegExp(
          `\\. Rolling back to r1 failed: after the change, Docker does not show ghost\\.service=${undone} running r1: ${copyName} runs image sha256:[0-9a-f]{12}… \\(release r2\\), not r1's sha256:[0-9a-f]{12}…$`,
        ),
      );
      // The old container itself is back and serves version 1.
      const now = await inspect(undone);
      expect([now.Id, now.Image, now.State.Running]).toEqual([old.id, v1, true]);
      expect(await httpText(old.port!)).toContain('version 1');
    } finally {
      await testDocker()
        .getContainer(copyName)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });
});
