// Compose files as owners write them, on the real engine with Debian's docker-compose v1 (host
// network, loopback ports): one project, set up once, whose services exercise what the first compose
// test does not. `mrcweb` has a compose key that differs from its ghost.service label and sets
// `container_name` (and sits in a profile); `built` has a `build:` section and no image; `other` is a
// service whose key is its label; `dbg` is in a profile nobody starts; every port and web:1's tag come
// from the project's `.env`. A deploy and a rollback must change exactly the service the label names,
// in the container compose keeps for it (no stray `<project>_<label>_1` service), and report executed
// only when that container runs the new release; a container carrying the service's identity on the
// old release after the change (a fault injected into the compose runner) fails the deploy and rolls it
// back. A label that two compose services carry is refused before any change.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type CommandRunner, execFileRunner } from '../../../src/executor/compose/compose-cli.js';
import { deployComposeService } from '../../../src/executor/compose/compose-deploy.js';
import { overridePath, parseOverride } from '../../../src/executor/compose/compose-override.js';
import { freePort, removeTestContainers, testDocker, testLabels } from '../../helpers/docker.js';
import { waitFor } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import {
  httpText,
  inspect,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  expectRollbackFailed,
  resolveService,
  startLabelledStray,
} from './exec-harness.js';
import { helmOverrideArgs, removeComposeProject } from './compose-stack.js';

const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');
const PROJECT = `mrstack${suffix}`;
/** The service Helm is asked about (ghost.service), its compose key, and its container_name. */
const CWEB = `mr-cweb-${suffix}`;
const CWEB_KEY = 'mrcweb';
const CWEB_CONTAINER = `mr-cweb-${suffix}`;
const BUILT = `mr-built-${suffix}`;
const OTHER = `mr-other-${suffix}`;
const BUILT_IMAGE = `${PROJECT}_built`;
let stackDir = '';
let memoryDir = '';
const ports = { cweb: 0, built: 0, other: 0 };
let helm: TestHelm | undefined;
let bus: BusClient | undefined;
let v1 = '';
let v2 = '';
/** Containers of the project by compose key, and which services were never touched. */
const witnesses: Record<string, { Id: string; StartedAt: string }> = {};

function compose(...args: string[]) {
  return run(
    'docker-compose',
    [
      '--project-name',
      PROJECT,
      '--project-directory',
      stackDir,
      '--file',
      join(stackDir, 'docker-compose.yml'),
      ...args,
    ],
    { cwd: stackDir, timeout: 120_000 },
  );
}

/** The project's containers, as compose labels them: "key name image-id". */
async function projectContainers() {
  const list = await testDocker().listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${PROJECT}`] },
  });
  return list
    .map((c) => ({
      key: c.Labels['com.docker.compose.service'] ?? '',
      name: (c.Names[0] ?? '').replace(/^\//, ''),
      imageId: c.ImageID,
      id: c.Id,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

async function byKey(key: string) {
  const found = (await projectContainers()).filter((c) => c.key === key);
  expect(found, `containers of compose service ${key}`).toHaveLength(1);
  return inspect(found[0]!.id);
}

/** Only the expected services exist, each once, under the name compose gives it; no stray service. */
async function expectOnlyTheOwnersServices() {
  const keys = (await projectContainers()).map((c) => `${c.key} ${c.name}`);
  expect(keys.sort()).toEqual(
    [`built ${PROJECT}_built_1`, `${CWEB_KEY} ${CWEB_CONTAINER}`, `${OTHER} ${PROJECT}_${OTHER}_1`].sort(),
  );
}

async function expectUntouched(...keys: string[]) {
  for (const k of keys) {
    const now = await byKey(k);
    expect([now.Id, now.State.StartedAt], `${k} untouched`).toEqual([
      witnesses[k]!.Id,
      witnesses[k]!.StartedAt,
    ]);
  }
}

function override() {
  const path = overridePath(memoryDir, PROJECT);
  return parseOverride(readFileSync(path, 'utf8'), path);
}

beforeAll(async () => {
  stackDir = mkdtempSync(join(tmpdir(), 'helm-exec-test-compose-identity-'));
  memoryDir = mkdtempSync(join(tmpdir(), 'helm-exec-test-compose-identity-mem-'));
  [ports.cweb, ports.built, ports.other] = [await freePort(), await freePort(), await freePort()];
  v1 = (await testDocker().getImage('helm-test/web:1').inspect()).Id;
  v2 = (await testDocker().getImage('helm-test/web:2').inspect()).Id;
  const labels = (service: string) => testLabels({ 'ghost.service': service, 'ghost.environment': 'dev' });
  const web = { network_mode: 'host', init: true };
  writeFileSync(
    join(stackDir, 'docker-compose.yml'),
    stringify({
      version: '2.4',
      services: {
        [CWEB_KEY]: {
          ...web,
          image: `helm-test/web:\${WEB_TAG}`,
          container_name: CWEB_CONTAINER,
          profiles: ['web'],
          environment: { PORT: `\${CWEB_PORT}` },
          labels: labels(CWEB),
        },
        built: { ...web, build: './built', environment: { PORT: `\${BUILT_PORT}` }, labels: labels(BUILT) },
        [OTHER]: {
          ...web,
          image: `helm-test/web:\${WEB_TAG}`,
          environment: { PORT: `\${OTHER_PORT}` },
          labels: labels(OTHER),
        },
        dbg: {
          ...web,
          image: `helm-test/web:\${WEB_TAG}`,
          profiles: ['debug'],
          labels: labels(`mr-dbg-${suffix}`),
        },
      },
    }),
  );
  writeFileSync(
    join(stackDir, '.env'),
    `WEB_TAG=1\nCWEB_PORT=${ports.cweb}\nBUILT_PORT=${ports.built}\nOTHER_PORT=${ports.other}\n`,
  );
  mkdirSync(join(stackDir, 'built'));
  writeFileSync(join(stackDir, 'built', 'Dockerfile'), 'FROM helm-test/web:1\nLABEL helm.test.built=1\n');
  await compose('--profile', 'web', 'up', '--detach');
  await waitFor(
    async () => {
      const all = await Promise.all((await projectContainers()).map((c) => inspect(c.id)));
      return all.length === 3 && all.every((i) => i.State.Health?.Status === 'healthy');
    },
    'the stack healthy',
    30_000,
  );
  for (const k of [CWEB_KEY, 'built', OTHER]) {
    const i = await byKey(k);
    witnesses[k] = { Id: i.Id, StartedAt: i.State.StartedAt };
  }
  helm = await startTestHelm({ HELM_STABILITY_WINDOW_S: '1', HELM_HEALTH_TIMEOUT_S: '20' }, { memoryDir });
  bus = await busClient(helm.prefix);
}, 120_000);

afterAll(async () => {
  await bus?.close();
  await helm?.close();
  if (stackDir) {
    await compose(
      ...helmOverrideArgs(memoryDir, PROJECT),
      '--profile',
      'web',
      '--profile',
      'debug',
      'down',
      '--timeout',
      '5',
    ).catch((err) => console.error(`compose down failed: ${(err as Error).message}`));
  }
  await removeComposeProject(PROJECT);
  await removeTestContainers();
  await removeReleaseTags([CWEB, BUILT, OTHER]);
  await testDocker()
    .getImage(BUILT_IMAGE)
    .remove()
    .catch(() => undefined);
  if (stackDir) removeHarnessDir(stackDir);
  if (memoryDir) removeHarnessDir(memoryDir);
});

/** A deploy of web:2 (or a rollback) through the bus, in dev: executed, as `imageId`. */
async function expectExecuted(action: 'deploy' | 'rollback', target: string, imageId: string) {
  const r = await bus!.request({
    action,
    target,
    environment: 'dev',
    reason: `${action} ${target} in the compose identity test`,
    ...(action === 'deploy' ? { params: { image: 'helm-test/web:2', image_id: imageId } } : {}),
  });
  expect(r, JSON.stringify(r)).toMatchObject({ status: 'executed', release: { image_id: imageId } });
  return r;
}

/** What the executor is handed for a dev deploy of web:2 as r2 (called in a test: v2 is known then). */
function deployV2Args() {
  return [
    {
      image: 'helm-test/web:2',
      image_id: v2,
      manifest_digest: null,
      artifact_id: null,
      strategy: 'recreate' as const,
      replaces_release: null,
      new_release: 'r2',
    },
    { requestId: null, approvalId: null, environment: 'dev' },
  ] as const;
}

describe('compose files as owners write them (docker-compose v1, one shared project)', () => {
  it('deploys to a service whose compose key differs from its label and that sets container_name', async () => {
    expect(await httpText(ports.cweb)).toContain('version 1');
    const r = await expectExecuted('deploy', CWEB, v2);
    // The owner's container (its container_name, its port from .env) serves v2; no stray service.
    const c = await byKey(CWEB_KEY);
    expect([c.Name, c.Image, c.Config.Labels['ghost.service']]).toEqual([`/${CWEB_CONTAINER}`, v2, CWEB]);
    expect(c.Config.Env).toContain(`PORT=${ports.cweb}`);
    expect(c.Config.Labels['helm.release']).toBe((r['release'] as { id: string }).id);
    expect(await httpText(ports.cweb)).toContain('version 2');
    await expectOnlyTheOwnersServices();
    // The override addresses the compose key, never the label.
    expect(Object.keys(override().pins)).toEqual([CWEB_KEY]);
    await expectUntouched('built', OTHER);
  });

  it('rolls it back in the same container name, and the result names it', async () => {
    const r = await expectExecuted('rollback', CWEB, v1);
    const c = await byKey(CWEB_KEY);
    expect([c.Name, c.Image]).toEqual([`/${CWEB_CONTAINER}`, v1]);
    expect((r['data'] as { containers: Array<{ name: string }> }).containers.map((x) => x.name)).toEqual([
      CWEB_CONTAINER,
    ]);
    expect(await httpText(ports.cweb)).toContain('version 1');
    await expectOnlyTheOwnersServices();
    await expectUntouched('built', OTHER);
  });

  it('deploys to a service with a `build:` section: Helm pins its tag and builds nothing', async () => {
    const builtBefore = (await testDocker().getImage(BUILT_IMAGE).inspect()).Id;
    await expectExecuted('deploy', BUILT, v2);
    const c = await byKey('built');
    expect([c.Image, c.Config.Labels['ghost.service']]).toEqual([v2, BUILT]);
    expect(await httpText(ports.built)).toContain('version 2');
    // Nothing was built: the project's own image is the one the owner built.
    expect((await testDocker().getImage(BUILT_IMAGE).inspect()).Id).toBe(builtBefore);
    expect(Object.keys(override().pins).sort()).toEqual(['built', CWEB_KEY]);
    await expectOnlyTheOwnersServices();
    await expectUntouched(OTHER);
  });

  it('a container with the identity left on the old release after `up` fails the deploy and rolls it back', async () => {
    const h = makeHarness({
      memoryDir: mkdtempSync(join(tmpdir(), 'helm-exec-test-compose-identity-fault-')),
    });
    const strayName = `${OTHER}-old-copy`;
    let injected = false;
    // The fault: right after the real `up`, a copy of the old container (its identity and release
    // labels, no compose labels, another port) runs the old release. Helm's own gate never sees it.
    const old = await byKey(OTHER);
    const faulty: CommandRunner = async (command, opts) => {
      const result = await execFileRunner(command, opts);
      if (!injected && command.args.includes('up')) {
        injected = true;
        const labels = Object.fromEntries(
          Object.entries(old.Config.Labels).filter(([k]) => !k.startsWith('com.docker.compose.')),
        );
        await startLabelledStray({ name: strayName, image: old.Image, labels });
      }
      return result;
    };
    try {
      const service = await resolveService(OTHER);
      const out = await deployComposeService(
        { ...h.ctx, compose: { run: faulty } },
        service,
        ...deployV2Args(),
      );
      expect(injected).toBe(true);
      expect(out, JSON.stringify(out)).toMatchObject({ ok: false, code: 'rolled_back' });
      if (out.ok) throw new Error('unreachable');
      expect(out.message).toContain(strayName);
      expect(out.message).toMatch(/Rolled back: r1 runs again/);
      const c = await byKey(OTHER);
      expect(c.Image).toBe(v1);
      expect(await httpText(ports.other)).toContain('version 1');
    } finally {
      await testDocker()
        .getContainer(strayName)
        .remove({ force: true })
        .catch(() => undefined);
      removeHarnessDir(h.memoryDir);
    }
  });

  it('an undo that leaves a container with the identity on the failed release is rollback_failed', async () => {
    const h = makeHarness({
      memoryDir: mkdtempSync(join(tmpdir(), 'helm-exec-test-compose-identity-undo-')),
    });
    const strays = [`${OTHER}-old-copy`, `${OTHER}-new-copy`];
    // The test before left the service pinned by an override it removed: the owner's own `up` again.
    await compose('up', '--detach', '--force-recreate', OTHER);
    await waitFor(async () => (await byKey(OTHER)).State.Health?.Status === 'healthy', `${OTHER} healthy`);
    const old = await byKey(OTHER);
    const labels = Object.fromEntries(
      Object.entries(old.Config.Labels).filter(([k]) => !k.startsWith('com.docker.compose.')),
    );
    // The faults: after the deploy's `up`, a copy of the old release carrying the identity fails the
    // deploy; after the restoring `up`, it is gone and a copy of the failed release (r2) runs instead.
    // The restored container itself is back and healthy: only Docker's view of the service tells.
    let ups = 0;
    const faulty: CommandRunner = async (command, opts) => {
      const result = await execFileRunner(command, opts);
      if (!command.args.includes('up')) return result;
      ups += 1;
      if (ups === 1) await startLabelledStray({ name: strays[0]!, image: old.Image, labels });
      if (ups === 2) {
        await testDocker().getContainer(strays[0]!).remove({ force: true });
        await startLabelledStray({
          name: strays[1]!,
          image: v2,
          labels: { ...labels, 'helm.release': 'r2' },
        });
      }
      return result;
    };
    try {
      const out = await deployComposeService(
        { ...h.ctx, compose: { run: faulty } },
        await resolveService(OTHER),
        ...deployV2Args(),
      );
      expect(ups, JSON.stringify(out)).toBe(2);
      expectRollbackFailed(
        out,
        new RegExp(
          `\\. Rolling back to (r[0-9]+) failed: \\1 is back but after the change, Docker does not show ghost\\.service=${OTHER} running \\1: ${strays[1]} runs image sha256:[0-9a-f]{12}… \\(release r2\\), not \\1's sha256:[0-9a-f]{12}…$`,
        ),
      );
      const c = await byKey(OTHER);
      expect(c.Image).toBe(v1);
      expect(await httpText(ports.other)).toContain('version 1');
    } finally {
      for (const name of strays)
        await testDocker()
          .getContainer(name)
          .remove({ force: true })
          .catch(() => undefined);
      removeHarnessDir(h.memoryDir);
    }
  });

  it('a label carried by two compose services is refused before any change (Helm changes one at a time)', async () => {
    const h = makeHarness();
    const project = `${PROJECT}two`;
    const label = `mr-two-${suffix}`;
    try {
      for (const key of ['a', 'b'])
        await testDocker().createContainer({
          name: `${project}_${key}_1`,
          Image: 'helm-test/web:1',
          Labels: testLabels({
            'ghost.service': label,
            'com.docker.compose.project': project,
            'com.docker.compose.service': key,
            'com.docker.compose.oneoff': 'False',
            'com.docker.compose.project.working_dir': stackDir,
            'com.docker.compose.project.config_files': 'docker-compose.yml',
          }),
          HostConfig: { NetworkMode: 'host' },
        });
      const out = await deployComposeService(h.ctx, await resolveService(label), ...deployV2Args());
      expect(out, JSON.stringify(out)).toEqual({
        ok: false,
        code: 'unavailable',
        message: `Helm cannot deploy ${label}: its containers belong to 2 compose services of project ${project} (a, b), and Helm changes one compose service at a time; nothing was changed`,
      });
      expect(h.log).toEqual([]);
      const now = await testDocker().listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${project}`] },
      });
      expect(now.map((c) => c.Names[0]).sort()).toEqual([`/${project}_a_1`, `/${project}_b_1`]);
    } finally {
      await removeComposeProject(project);
      removeHarnessDir(h.memoryDir);
    }
  });
});
