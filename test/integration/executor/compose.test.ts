// A compose stack on the real engine, brought up with the CLI CI has (Debian's docker-compose v1):
// two host-network services from local images, each on a free loopback port. Through the bus (an
// in-process Helm, dev environment: no approval), one service is deployed, restarted and rolled back
// with the project's own files plus Helm's override; the other service is never touched. A deploy
// that crashes is rolled back by pinning the previous release again. Where the compose CLI or the
// stack folder is missing, compose deploys are refused before anything changes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { listReleases, releasesTable } from '../../../src/cli/releases-command.js';
import { deployComposeService } from '../../../src/executor/compose/compose-deploy.js';
import { overridePath, parseOverride } from '../../../src/executor/compose/compose-override.js';
import { rollbackComposeService } from '../../../src/executor/compose/compose-rollback.js';
import { releaseTag } from '../../../src/releases/release-store.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { freePort, removeTestContainers, testDocker, testLabels } from '../../helpers/docker.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import {
  httpText,
  inspect,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
} from './exec-harness.js';
import { helmOverrideArgs } from './compose-stack.js';

const run = promisify(execFile);
const suffix = randomBytes(4).toString('hex');
const PROJECT = `helmtest${suffix}`;
const WEB = `cweb-${suffix}`;
const OTHER = `cother-${suffix}`;
let stackDir = '';
let memoryDir = '';
let webPort = 0;
let otherPort = 0;
let helm: TestHelm | undefined;
/** The release ids the first deploy's plan named: the new release, and the containers Helm found. */
let NEW = '';
let FOUND = '';
let bus: BusClient | undefined;
const timings: Record<string, number> = {};

/** The CLI CI has: Debian's docker-compose v1, as an argument array (no shell). */
function compose(...args: string[]) {
  return run(
    'docker-compose',
    ['--project-name', PROJECT, '--file', join(stackDir, 'docker-compose.yml'), ...args],
    {
      cwd: stackDir,
      timeout: 60_000,
    },
  );
}

async function imageId(ref: string): Promise<string> {
  return (await testDocker().getImage(ref).inspect()).Id;
}

async function containerOf(service: string) {
  const list = await testDocker().listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${PROJECT}`, `com.docker.compose.service=${service}`] },
  });
  expect(list).toHaveLength(1);
  return inspect(list[0]!.Id);
}

async function waitHealthy(service: string) {
  await waitFor(
    async () => (await containerOf(service)).State.Health?.Status === 'healthy',
    `${service} healthy`,
    20_000,
  );
}

function override() {
  const path = overridePath(memoryDir, PROJECT);
  return { path, text: readFileSync(path, 'utf8'), data: parseOverride(readFileSync(path, 'utf8'), path) };
}

beforeAll(async () => {
  const started = performance.now();
  stackDir = mkdtempSync(join(tmpdir(), 'helm-exec-test-compose-stack-'));
  memoryDir = mkdtempSync(join(tmpdir(), 'helm-exec-test-compose-mem-'));
  [webPort, otherPort] = [await freePort(), await freePort()];
  const service = (port: number) => ({
    image: 'helm-test/web:1',
    network_mode: 'host',
    init: true,
    environment: { PORT: String(port) },
    labels: testLabels({ 'ghost.environment': 'dev' }),
  });
  writeFileSync(
    join(stackDir, 'docker-compose.yml'),
    stringify({ version: '2.4', services: { [WEB]: service(webPort), [OTHER]: service(otherPort) } }),
  );
  await compose('up', '--detach');
  await Promise.all([waitHealthy(WEB), waitHealthy(OTHER)]);
  timings['stack up'] = performance.now() - started;
  const h0 = performance.now();
  helm = await startTestHelm({ HELM_STABILITY_WINDOW_S: '1', HELM_HEALTH_TIMEOUT_S: '20' }, { memoryDir });
  bus = await busClient(helm.prefix);
  timings['helm start'] = performance.now() - h0;
});

afterAll(async () => {
  const started = performance.now();
  await bus?.close();
  await helm?.close();
  if (stackDir) {
    // With Helm's override when it exists, so compose sees every container it made.
    await compose(...helmOverrideArgs(memoryDir, PROJECT), 'down', '-v', '--timeout', '5').catch((err) =>
      console.error(`compose down failed: ${(err as Error).message}`),
    );
  }
  await removeTestContainers();
  await removeReleaseTags([WEB, OTHER]);
  timings['teardown'] = performance.now() - started;
  console.log(
    `compose test timings (ms): ${Object.entries(timings)
      .map(([k, v]) => `${k} ${Math.round(v)}`)
      .join(', ')}`,
  );
  if (stackDir) removeHarnessDir(stackDir);
  if (memoryDir) removeHarnessDir(memoryDir);
});

describe('a compose service through the bus (docker-compose v1, host network)', () => {
  it('deploys helm-test/web:2: the override pins the release tag, the other service is untouched', async () => {
    const v2 = await imageId('helm-test/web:2');
    const v1 = await imageId('helm-test/web:1');
    const otherBefore = await containerOf(OTHER);
    const webBefore = await containerOf(WEB);
    expect(await httpText(webPort)).toContain('version 1');

    const t0 = performance.now();
    const r = await bus!.request({
      action: 'deploy',
      target: WEB,
      environment: 'dev',
      reason: 'ship v2 to the compose stack',
      request_id: `compose-test:${suffix}:deploy`,
      params: { image: 'helm-test/web:2', image_id: v2, artifact_id: 'build-42' },
    });
    timings['deploy'] = performance.now() - t0;
    expect(r).toMatchObject({
      status: 'executed',
      approval_id: null,
      release: { image: 'helm-test/web:2', image_id: v2, artifact_id: 'build-42' },
    });
    // The plan names the ids: the new release, and the containers Helm found recorded as one.
    NEW = (r['release'] as { id: string }).id;
    FOUND = (r['data'] as { previous_release: string }).previous_release;
    expect([NEW, FOUND].every((id) => /^r[0-9]+$/.test(id)) && NEW !== FOUND).toBe(true);
    expect(r['outcome']).toMatch(
      new RegExp(
        `^deployed ${WEB} helm-test/web:2 \\(sha256:[0-9a-f]{12}…\\) as ${NEW} in [0-9.]+ s with docker-compose \\(compose project ${PROJECT}\\); ${FOUND}'s image kept for rollback$`,
      ),
    );
    expect(await httpText(webPort)).toContain('version 2');

    // The override pins Helm's tag for the new release, which is exactly the verified image.
    const o = override();
    const tag = releaseTag(WEB, NEW).ref;
    expect(o.data).toEqual({
      version: '2.4',
      pins: {
        [WEB]: {
          image: tag,
          labels: { 'helm.op': expect.any(String), 'helm.release': NEW, 'helm.previous': FOUND },
        },
      },
    });
    expect(await imageId(tag)).toBe(v2);
    expect(o.text).toContain(`# ${WEB}: release ${NEW}: helm-test/web:2 (${v2}), artifact build-42`);
    const web = await containerOf(WEB);
    expect(web.Id).not.toBe(webBefore.Id);
    expect(web.Image).toBe(v2);
    expect(web.Config.Image).toBe(tag);
    expect(web.Config.Labels['com.docker.compose.project.config_files']).toBe(
      `${join(stackDir, 'docker-compose.yml')},${o.path}`,
    );
    expect(web.Config.Labels['helm.release']).toBe(NEW);

    // The other service: the same container, never restarted.
    const other = await containerOf(OTHER);
    expect(other.Id).toBe(otherBefore.Id);
    expect(other.State.StartedAt).toBe(otherBefore.State.StartedAt);
    expect(other.Image).toBe(v1);

    // The release records: what ran before (found) and the new one, current; and `helm releases`.
    const listing = await listReleases({ memoryDir }, WEB);
    expect(listing.current).toBe(NEW);
    expect(listing.releases.map((x) => [x.id, x.image_id, x.adopted])).toEqual([
      [NEW, v2, false],
      [FOUND, v1, true],
    ]);
    const table = releasesTable(listing).split('\n');
    expect(table[1]).toMatch(
      new RegExp(`^\\*\\s+${NEW}\\s+helm-test/web:2\\s+${v2.slice(0, 19)}\\s+-\\s+build-42\\s`),
    );
    expect(table[1]).toContain(`compose-test:${suffix}:deploy`);
    expect(table[2]).toMatch(new RegExp(`^\\s+${FOUND} \\(found\\)\\s+helm-test/web:1\\s`));

    const doc = readFileSync(join(memoryDir, 'rollback', `${WEB}.md`), 'utf8');
    expect(doc).toContain("**Your own `up` must include the override after the project's files**");
    expect(doc).toContain(`--file ${o.path} up --detach`);
    expect(doc).toContain(`--no-deps --no-build --force-recreate --scale ${WEB}=1 ${WEB}`);
  });

  it('`helm releases <service>` lists them from the command line', async () => {
    const { stdout } = await run('npx', ['tsx', 'src/cli/main.ts', 'releases', WEB], {
      env: { ...process.env, HELM_MEMORY_DIR: memoryDir },
      timeout: 30_000,
    });
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(
      /^\s+RELEASE\s+IMAGE\s+IMAGE ID\s+DIGEST\s+ARTIFACT\s+CREATED\s+REQUEST\s+APPROVAL$/,
    );
    expect(lines[1]).toMatch(new RegExp(`^\\*\\s+${NEW}\\s`));
    expect(lines[2]).toMatch(new RegExp(`^\\s+${FOUND} \\(found\\)\\s`));
    await expect(
      run('npx', ['tsx', 'src/cli/main.ts', 'releases', 'no-such-service'], {
        env: { ...process.env, HELM_MEMORY_DIR: memoryDir },
        timeout: 30_000,
      }),
    ).rejects.toMatchObject({ code: 1, stdout: 'no releases recorded for no-such-service\n' });
  });

  it('restarts the compose service through the Docker API; the other service is untouched', async () => {
    const before = await containerOf(WEB);
    const otherBefore = await containerOf(OTHER);
    const t0 = performance.now();
    const r = await bus!.request({
      action: 'restart',
      target: WEB,
      environment: 'dev',
      reason: 'restart it',
    });
    timings['restart'] = performance.now() - t0;
    expect(r).toMatchObject({ status: 'executed' });
    expect(r['outcome']).toMatch(new RegExp(`^restarted ${WEB} \\(1 container\\) in [0-9.]+ s; healthy: `));
    const after = await containerOf(WEB);
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
    expect(after.Image).toBe(await imageId('helm-test/web:2'));
    expect((await containerOf(OTHER)).State.StartedAt).toBe(otherBefore.State.StartedAt);
  });

  it('rolls back to the previous release: the override pins its image again and web:1 serves', async () => {
    const v1 = await imageId('helm-test/web:1');
    const otherBefore = await containerOf(OTHER);
    const t0 = performance.now();
    const r = await bus!.request({
      action: 'rollback',
      target: WEB,
      environment: 'dev',
      reason: 'v2 is bad',
    });
    timings['rollback'] = performance.now() - t0;
    expect(r).toMatchObject({ status: 'executed', release: { id: FOUND, image_id: v1 } });
    expect(r['outcome']).toMatch(
      new RegExp(
        `^rolled back ${WEB} to ${FOUND} \\(helm-test/web:1, sha256:[0-9a-f]{12}…\\) in [0-9.]+ s with docker-compose \\(compose project ${PROJECT}\\); healthy: .+; ${NEW}'s image kept$`,
      ),
    );
    expect(await httpText(webPort)).toContain('version 1');
    const o = override();
    expect(o.data.pins[WEB]).toMatchObject({
      image: releaseTag(WEB, FOUND).ref,
      labels: { 'helm.release': FOUND, 'helm.previous': NEW },
    });
    expect(await imageId(releaseTag(WEB, FOUND).ref)).toBe(v1);
    expect((await containerOf(WEB)).Image).toBe(v1);
    const other = await containerOf(OTHER);
    expect([other.Id, other.State.StartedAt]).toEqual([otherBefore.Id, otherBefore.State.StartedAt]);
    const listing = await listReleases({ memoryDir }, WEB);
    expect(listing.current).toBe(FOUND);
    expect(listing.releases[1]?.containers[0]?.id).toBe((await containerOf(WEB)).Id);
  });

  it('a deploy that crashes is rolled back by pinning the running release again', async () => {
    const v1 = await imageId('helm-test/web:1');
    const crash = 'helm-test/web-faulty:crash-now';
    const t0 = performance.now();
    const r = await bus!.request({
      action: 'deploy',
      target: WEB,
      environment: 'dev',
      reason: 'ship a broken build',
      params: { image: crash, image_id: await imageId(crash) },
    });
    timings['failed deploy'] = performance.now() - t0;
    expect(r).toMatchObject({ status: 'failed', error: { code: 'rolled_back' } });
    expect((r['error'] as { message: string }).message).toMatch(
      new RegExp(
        `^compose deploy of ${crash.replace(/[/.]/g, '\\$&')} \\(sha256:[0-9a-f]{12}…\\) to ${WEB} as r3 failed: .*exited with code 3.*\\. Rolled back: ${FOUND} runs again and is healthy`,
      ),
    );
    const data = r['data'] as { last_logs: Array<{ text: string }>; restored_release: string };
    expect(data.restored_release).toBe(FOUND);
    expect(data.last_logs.some((l) => l.text.includes('crashing at start'))).toBe(true);
    expect(await httpText(webPort)).toContain('version 1');
    expect(override().data.pins[WEB]?.image).toBe(releaseTag(WEB, FOUND).ref);
    expect((await containerOf(WEB)).Image).toBe(v1);
    const listing = await listReleases({ memoryDir }, WEB);
    expect(listing.current).toBe(FOUND);
    expect(listing.releases.map((x) => x.id)).toEqual([NEW, FOUND]);
    const alerts = await bus!.alertsSent();
    expect(alerts.some((a) => a['kind'] === 'rolled_back' && a['target'] === WEB)).toBe(true);
  });
});

describe('compose deploys refused where Helm cannot run them (nothing changes)', () => {
  it('without a compose CLI: unavailable, naming what it looked for', async () => {
    const h = makeHarness();
    try {
      const service = await resolveService(WEB);
      const before = await containerOf(WEB);
      const ctx = { ...h.ctx, compose: { cli: null } };
      const out = await deployComposeService(
        ctx,
        service,
        {
          image: 'helm-test/web:2',
          image_id: null,
          manifest_digest: null,
          artifact_id: null,
          strategy: 'recreate',
          replaces_release: null,
          new_release: 'r1',
        },
        { requestId: null, approvalId: null, environment: 'dev' },
      );
      expect(out).toMatchObject({ ok: false, code: 'unavailable' });
      if (out.ok) throw new Error('unreachable');
      expect(out.message).toMatch(
        /neither "docker compose" nor "docker-compose" runs where Helm runs \(HELM_COMPOSE_COMMAND=auto\).*Reads, restart and stop still work; nothing was changed$/,
      );
      const back = await rollbackComposeService(ctx, service, null, {
        requestId: null,
        approvalId: null,
        environment: 'dev',
      });
      expect(back).toMatchObject({ ok: false, code: 'unavailable' });
      expect(h.log).toEqual([]);
      expect((await containerOf(WEB)).Id).toBe(before.Id);
    } finally {
      removeHarnessDir(h.memoryDir);
    }
  });

  /** A container that says it belongs to a compose project in `workingDir` (compose's labels only). */
  async function fakeComposeContainer(name: string, project: string, workingDir: string) {
    const c = await testDocker().createContainer({
      name,
      Image: 'helm-test/web:1',
      Env: [`PORT=${await freePort()}`],
      Labels: testLabels({
        'com.docker.compose.project': project,
        'com.docker.compose.service': name,
        'com.docker.compose.oneoff': 'False',
        'com.docker.compose.project.working_dir': workingDir,
        'com.docker.compose.project.config_files': 'docker-compose.yml',
      }),
      HostConfig: { NetworkMode: 'host', Init: true },
    });
    await c.start();
    return c.id;
  }
  const desired = {
    image: 'helm-test/web:2',
    image_id: null,
    manifest_digest: null,
    artifact_id: null,
    strategy: 'recreate' as const,
    replaces_release: null,
    new_release: 'r2',
  };
  const meta = { requestId: null, approvalId: null, environment: 'dev' };

  it('when the stack folder is not where the labels say (Helm in a container without the mount)', async () => {
    const h = makeHarness();
    const name = uniqueName('cnofiles');
    try {
      const id = await fakeComposeContainer(name, `gone${suffix}`, `/nonexistent/${suffix}/stack`);
      const out = await deployComposeService(h.ctx, await resolveService(name), desired, meta);
      expect(out).toMatchObject({ ok: false, code: 'unavailable' });
      if (out.ok) throw new Error('unreachable');
      expect(out.message).toBe(
        `Helm cannot deploy compose service ${name}: project gone${suffix}'s folder /nonexistent/${suffix}/stack does not exist where Helm runs. Helm changes a compose service with the project's own files, so it needs them at the paths the containers' labels name (Helm in a container: mount the stack folder at the same path); nothing was changed`,
      );
      expect(h.log).toEqual([]);
      expect((await inspect(id)).State.Running).toBe(true);
    } finally {
      removeHarnessDir(h.memoryDir);
    }
  });

  it('when compose does not accept the project’s files (checked before any change)', async () => {
    const h = makeHarness();
    const name = uniqueName('cbadfile');
    const dir = mkdtempSync(join(tmpdir(), 'helm-exec-test-compose-bad-'));
    try {
      writeFileSync(
        join(dir, 'docker-compose.yml'),
        `version: "2.4"\nservices:\n  ${name}:\n    imagee: x\n`,
      );
      const id = await fakeComposeContainer(name, `bad${suffix}`, dir);
      const out = await deployComposeService(h.ctx, await resolveService(name), desired, meta);
      expect(out).toMatchObject({ ok: false, code: 'unavailable' });
      if (out.ok) throw new Error('unreachable');
      expect(out.message).toMatch(
        new RegExp(
          `^Helm cannot deploy compose service ${name}: docker-compose does not accept project bad${suffix}'s files \\(exit code 1: .*imagee.*\\); nothing was changed$`,
        ),
      );
      expect(h.log).toEqual([]);
      expect((await inspect(id)).State.Running).toBe(true);
    } finally {
      removeHarnessDir(h.memoryDir);
      removeHarnessDir(dir);
    }
  });
});
