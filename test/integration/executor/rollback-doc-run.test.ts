// Issue 8 item 8: the rollback document's manual `docker run` line must create the previous release's
// container again as it was. A real container with the owner's labels, env (one from a secret),
// mounts, ports, restart policy and the rest; its release record from its inspect; the document's
// line split as sh would and run through the docker CLI (execFile, no shell) with the env the
// document tells the owner to set; the new container's inspect must match the original's.
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerInspect } from '../../../src/docker/docker-objects.js';
import { captureConfig } from '../../../src/releases/release-config.js';
import type { ReleaseRecord } from '../../../src/releases/release-store.js';
import { renderRollbackDoc } from '../../../src/executor/rollback-doc.js';
import { Redactor } from '../../../src/log/redactor.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  freePort,
  removeTestContainers,
  testDocker,
  testLabels,
  WEB_IMAGE_V1,
} from '../../helpers/docker.js';
import { shellWords } from '../../helpers/shell-words.js';

const run = promisify(execFile);
const volumes: string[] = [];
const names: string[] = [];
afterAll(async () => {
  await removeTestContainers();
  // A recreated container that lost the test labels (the defect) is not found by them: by name too.
  await Promise.all(
    names.map((n) =>
      testDocker()
        .getContainer(n)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  // The named volume the original mounted (the recreated container shares it).
  await Promise.all(
    volumes.map((v) =>
      testDocker()
        .getVolume(v)
        .remove()
        .catch(() => undefined),
    ),
  );
});

const SECRET = 's3cret-value-for-the-doc';

function release(
  id: string,
  container: { name: string; id: string; inspect: ContainerInspect },
  redactor: Redactor,
): ReleaseRecord {
  return {
    id,
    service: 'doc-web',
    image: WEB_IMAGE_V1,
    image_id: container.inspect.Image,
    manifest_digest: null,
    artifact_id: null,
    release_tag: null,
    created_at: '2026-01-01T00:00:00.000Z',
    request_id: null,
    approval_id: null,
    environment: 'dev',
    op_id: null,
    adopted: id === 'r1',
    previous: id === 'r2' ? 'r1' : null,
    config_digest: `sha256:${'c'.repeat(64)}`,
    containers: [
      { name: container.name, id: container.id, config: captureConfig(container.inspect, redactor) },
    ],
  };
}

/** What `docker run` must reproduce, from an inspect (the image reference aside: the doc runs the id). */
function faithful(i: ContainerInspect) {
  const hc = i.HostConfig as Record<string, unknown>;
  const cfg = i.Config as ContainerInspect['Config'] & { StopSignal?: string; StopTimeout?: number };
  return {
    image: i.Image,
    labels: cfg.Labels,
    env: [...(cfg.Env ?? [])].sort(),
    entrypoint: cfg.Entrypoint,
    cmd: cfg.Cmd,
    user: cfg.User,
    workdir: cfg.WorkingDir,
    exposed: cfg.ExposedPorts,
    stopSignal: cfg.StopSignal,
    stopTimeout: cfg.StopTimeout,
    healthcheck: cfg.Healthcheck,
    mounts: (i.Mounts ?? [])
      .map((m) => ({
        type: m.Type,
        source: m.Type === 'volume' ? m.Name : m.Source,
        dst: m.Destination,
        rw: m.RW,
      }))
      .sort((a, b) => a.dst.localeCompare(b.dst)),
    host: Object.fromEntries(
      [
        'NetworkMode',
        'Init',
        'RestartPolicy',
        'Binds',
        'PortBindings',
        'Memory',
        'NanoCpus',
        'PidsLimit',
        'Ulimits',
        'CapDrop',
        'LogConfig',
        'Tmpfs',
      ].map((k) => [k, hc[k]]),
    ),
  };
}

describe("the rollback document's docker run line", () => {
  it('creates the previous release’s container again as it was: labels, env, mounts, ports, policy and the rest', async () => {
    const docker = testDocker();
    const name = uniqueName('doc-web');
    names.push(name, `${name}-was`);
    const port = await freePort();
    const volume = uniqueName('doc-vol');
    volumes.push(volume);
    const bindDir = await mkdtemp(path.join(os.tmpdir(), 'helm-doc-bind-'));
    const original = await docker.createContainer({
      name,
      Image: WEB_IMAGE_V1,
      Labels: testLabels({
        'ghost.service': 'doc-web',
        'ghost.environment': 'dev',
        'owner.note': 'custom',
        'owner.quoted': `it's "quoted" $HOME`,
        'helm.env-secrets': JSON.stringify({ DB_PASSWORD: 'db-pass' }),
      }),
      Env: [`PORT=${port}`, 'APP_MODE=blue green', `DB_PASSWORD=${SECRET}`],
      Entrypoint: ['/bin/sh'],
      Cmd: ['-c', 'exec httpd -f -p "127.0.0.1:$PORT" -h /www'],
      User: '0:0',
      WorkingDir: '/www',
      // A bound port is exposed too, as `docker run -p` and compose make it.
      ExposedPorts: { '8080/tcp': {}, '9000/tcp': {} },
      StopSignal: 'SIGINT',
      StopTimeout: 7,
      Healthcheck: {
        Test: ['CMD-SHELL', 'wget -q -O /dev/null "http://127.0.0.1:$PORT/" || exit 1'],
        Interval: 2_000_000_000,
        Timeout: 1_000_000_000,
        Retries: 3,
      },
      HostConfig: {
        NetworkMode: 'host',
        Init: true,
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 },
        Binds: [`${bindDir}:/data:ro`],
        Mounts: [{ Type: 'volume', Source: volume, Target: '/vol' }],
        Tmpfs: { '/scratch': 'size=1m' },
        PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] },
        Memory: 64 * 1024 * 1024,
        NanoCpus: 500_000_000,
        PidsLimit: 100,
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }],
        CapDrop: ['CAP_NET_RAW'],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } },
      },
    });
    await original.start();
    const before = await original.inspect();

    const redactor = new Redactor();
    redactor.add(SECRET);
    const prev = release('r1', { name, id: before.Id, inspect: before }, redactor);
    const cur = release('r2', { name, id: before.Id, inspect: before }, redactor);
    const previousImage = (await docker.getImage(before.Image).inspect()).Config;
    const doc = renderRollbackDoc({
      service: 'doc-web',
      environment: 'dev',
      event: 'deploy of r2',
      at: '2026-01-01T00:00:01.000Z',
      current: cur,
      previous: prev,
      previousKept: {},
      previousImage,
    });
    expect(doc).not.toContain(SECRET);
    const runLines = doc.split('\n').filter((l) => l.startsWith('docker run '));
    expect(runLines).toHaveLength(1);
    const argv = shellWords(runLines[0]!);

    // Step 1 of the document: the current container out of the way under another name.
    await original.stop({ t: 2 });
    await original.rename({ name: `${name}-was` });
    // The env the document names, with the values the owner's shell (and secret store) hold.
    const shellEnv: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      ...(process.env['DOCKER_HOST'] ? { DOCKER_HOST: process.env['DOCKER_HOST'] } : {}),
      PORT: String(port),
      APP_MODE: 'blue green',
      DB_PASSWORD: SECRET,
    };
    expect(argv.slice(0, 2)).toEqual(['docker', 'run']);
    const { stdout } = await run('docker', argv.slice(1), { env: shellEnv });
    const after = await docker.getContainer(stdout.trim()).inspect();

    expect(after.Name).toBe(`/${name}`);
    expect(faithful(after)).toEqual(faithful(before));
    // Env by name only, and only what the image does not set itself (its PATH stays the image's).
    expect(doc).toMatch(/shell first \(.*\): PORT, APP_MODE, DB_PASSWORD\./);
  });
});
