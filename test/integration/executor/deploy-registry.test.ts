// Deploy by manifest digest from a real registry on loopback (Debian's docker-registry, htpasswd
// auth): Helm pulls repository@digest with credentials from a Docker-config-style auth file, checks
// the digest, and deploys; the password appears in no sink. An unknown digest is refused with
// artifact_mismatch, a pull without credentials with docker_error, both before any container change.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployService } from '../../../src/executor/deploy.js';
import { makeRegistryAuth } from '../../../src/executor/registry-auth.js';
import {
  freePort,
  removeTestContainers,
  testDocker,
  WEB_IMAGE_V1,
  WEB_IMAGE_V2,
} from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import {
  dockerCalls,
  expectEveryChangeAnnounced,
  type Harness,
  httpText,
  inspect,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
  startServiceContainer,
} from './exec-harness.js';

const USER = 'helm-test';
const PASSWORD = 'helm-registry-canary-5b0e7d'; // see fixtures/README.md
const meta = { requestId: 't:registry', approvalId: null, environment: 'production' };

let registry: ChildProcess | undefined;
let registryLog = '';
let port: number;
let scratch: string;
let repo: string;
let digest: string;
let otherRepo: string;
let otherDigest: string;
let web2Id: string;
const harnesses: Harness[] = [];
const services: string[] = [];

beforeAll(async () => {
  port = await freePort();
  scratch = mkdtempSync(join(tmpdir(), 'helm-exec-test-registry-'));
  const config = join(scratch, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log: { level: warn }',
      `storage: { filesystem: { rootdirectory: ${join(scratch, 'data')} } }`,
      `http: { addr: "127.0.0.1:${port}", secret: helm-test-only }`,
      `auth: { htpasswd: { realm: helm-test, path: ${join(import.meta.dirname, 'fixtures', 'registry.htpasswd')} } }`,
      '',
    ].join('\n'),
  );
  registry = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  registry.stdout?.on('data', (d: Buffer) => (registryLog += d.toString()));
  registry.stderr?.on('data', (d: Buffer) => (registryLog += d.toString()));
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${port}/v2/`).catch(() => null))?.status === 401,
    `the loopback registry on 127.0.0.1:${port} (${registryLog.slice(-300)})`,
    15_000,
  );

  // Forge's part: push web:2 (and web:1 under another name) and note the manifest digests; then
  // forget them locally, so Helm must pull.
  web2Id = (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id;
  repo = `127.0.0.1:${port}/helm-test/web`;
  otherRepo = `127.0.0.1:${port}/helm-test/other`;
  digest = await push(WEB_IMAGE_V2, repo, '2');
  otherDigest = await push(WEB_IMAGE_V1, otherRepo, '1');
  await forgetLocally();
});

afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags(services);
  await forgetLocally().catch(() => undefined);
  if (registry?.pid && registry.exitCode === null) {
    const exited = new Promise((resolve) => registry!.once('exit', resolve));
    process.kill(registry.pid, 'SIGTERM');
    await exited;
  }
  for (const h of harnesses) removeHarnessDir(h.memoryDir);
  removeHarnessDir(scratch); // config.yml and the registry's storage: this file's own temp folder
});

async function push(local: string, to: string, tag: string): Promise<string> {
  await testDocker().getImage(local).tag({ repo: to, tag });
  const stream = await testDocker()
    .getImage(`${to}:${tag}`)
    .push({ authconfig: { username: USER, password: PASSWORD, serveraddress: `127.0.0.1:${port}` } });
  const events = await new Promise<Array<{ aux?: { Digest?: string } }>>((resolve, reject) =>
    testDocker().modem.followProgress(
      stream,
      (err: Error | null, out: Array<{ aux?: { Digest?: string } }>) => (err ? reject(err) : resolve(out)),
    ),
  );
  const d = events.find((e) => e.aux?.Digest)?.aux?.Digest ?? '';
  expect(d).toMatch(/^sha256:[0-9a-f]{64}$/);
  return d;
}

async function forgetLocally(): Promise<void> {
  // Untag only (helm-test/web:1|2 keep the images); force, as a container may run from a digest ref.
  for (const ref of [`${repo}:2`, `${repo}@${digest}`, `${otherRepo}:1`, `${otherRepo}@${otherDigest}`]) {
    await testDocker()
      .getImage(ref)
      .remove({ noprune: true, force: true })
      .catch(() => undefined);
  }
}

function harness(withCredentials: boolean): Harness {
  const h = makeHarness();
  harnesses.push(h);
  if (withCredentials) {
    const authFile = join(h.memoryDir, 'registry-auth.json');
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    writeFileSync(authFile, JSON.stringify({ auths: { [`127.0.0.1:${port}`]: { auth } } }), { mode: 0o600 });
    h.ctx.registryAuth = makeRegistryAuth(authFile, h.redactor);
  } else {
    h.ctx.registryAuth = async () => null;
  }
  return h;
}

function desired(manifestDigest: string, image = `${repo}:2`, imageId: string | null = web2Id) {
  return {
    image,
    image_id: imageId,
    manifest_digest: manifestDigest,
    artifact_id: 'forge:build-2',
    strategy: 'recreate' as const,
    replaces_release: 'r1',
    new_release: 'r2',
  };
}

describe('deploy by manifest_digest from a loopback registry', () => {
  it('pulls repository@digest with the credentials, checks it, deploys it; the password is in no sink', async () => {
    const h = harness(true);
    const service = uniqueName('registry');
    services.push(service);
    const old = await startServiceContainer({ service });
    expect(
      await testDocker()
        .getImage(`${repo}@${digest}`)
        .inspect()
        .catch(() => null),
    ).toBeNull();

    const out = await deployService(h.ctx, await resolveService(service), desired(digest), meta);
    expect(out).toMatchObject({
      ok: true,
      release: {
        id: 'r2',
        image: `${repo}:2`,
        image_id: web2Id,
        manifest_digest: digest,
        artifact_id: 'forge:build-2',
      },
    });
    expect(await httpText(old.port!)).toContain('version 2');
    const now = await inspect(old.name);
    expect(now.Config.Image).toBe(`${repo}@${digest}`);
    expect(now.Image).toBe(web2Id);
    expect(h.steps()[0]).toBe('pull_image');
    expect(h.log[0]).toMatchObject({
      kind: 'announce',
      step: 'pull_image',
      detail: { reference: `${repo}@${digest}` },
    });
    expect(dockerCalls(h.log)[0]).toBe('pullImage');
    expectEveryChangeAnnounced(h.log);

    const record = await h.ctx.releases.getRelease(service, 'r2');
    expect(record).toMatchObject({ manifest_digest: digest, image_id: web2Id });
    const doc = await readFile(join(h.memoryDir, 'rollback', `${service}.md`), 'utf8');
    expect(doc).toContain(`- manifest digest: ${digest}`);

    const sinks = [
      JSON.stringify(out),
      h.logLines.join(''),
      JSON.stringify(h.log.filter((e) => e.kind === 'announce')),
      readFileSync(join(h.memoryDir, 'releases', `${service}.json`), 'utf8'),
      doc,
    ];
    for (const sink of sinks) {
      expect(sink).not.toContain(PASSWORD);
      expect(sink).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
    }
    expect(h.redactor.redact(`x ${PASSWORD} y`)).toBe('x [redacted] y');
  });

  it('refuses a digest the registry does not have (artifact_mismatch); no container changes', async () => {
    const h = harness(true);
    const service = uniqueName('registry-bad');
    services.push(service);
    const old = await startServiceContainer({ service, waitHealthy: false });
    const wrong = `sha256:${'0'.repeat(63)}1`;
    const out = await deployService(h.ctx, await resolveService(service), desired(wrong), meta);
    expect(out).toMatchObject({ ok: false, code: 'artifact_mismatch' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toContain(`the registry has no manifest ${wrong} for ${repo}`);
    expect(out.message).toContain('nothing was changed');
    expect(out.message).not.toContain(PASSWORD);
    expect(h.steps()).toEqual(['pull_image']);
    expect((await inspect(old.name)).Id).toBe(old.id);
  });

  it('without credentials the pull is refused by the registry: docker_error, nothing changed', async () => {
    const h = harness(false);
    const service = uniqueName('registry-noauth');
    services.push(service);
    const old = await startServiceContainer({ service, waitHealthy: false });
    const out = await deployService(
      h.ctx,
      await resolveService(service),
      desired(otherDigest, `${otherRepo}:1`, null),
      { ...meta, environment: 'staging' },
    );
    if (out.ok) throw new Error(`expected a refused pull, got ${JSON.stringify(out)}`);
    expect(out.code).toBe('docker_error');
    expect(out.message).toBe(
      `pull of ${otherRepo}@${otherDigest} failed: Get "http://127.0.0.1:${port}/v2/helm-test/other/manifests/${otherDigest}": no basic auth credentials; nothing was changed`,
    );
    expect(h.steps()).toEqual(['pull_image']);
    expect((await inspect(old.name)).Id).toBe(old.id);
  });
});
