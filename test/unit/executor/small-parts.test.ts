// Pure helpers: fixed host ports, kept-container names, image references, registry auth, the
// release record's env (secret references and withheld values).
import { mkdtempSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { registryOf, repositoryOf } from '../../../src/executor/artifact.js';
import { bindsFixedHostPort } from '../../../src/observe/fixed-port.js';
import { isKeptContainer, keptName, keptRelease } from '../../../src/docker/kept-containers.js';
import { activeContainers } from '../../../src/docker/target-resolution.js';
import { makeRegistryAuth } from '../../../src/executor/registry-auth.js';
import {
  captureConfig,
  createOptionsFromRecord,
  ReleaseNotRestorableError,
} from '../../../src/releases/release-config.js';
import { Redactor } from '../../../src/log/redactor.js';
import { containerInspect, imageInspect } from './fixtures.js';

describe('bindsFixedHostPort', () => {
  it.each([
    [{ config: { Env: ['PORT=8080'] } }, true, 'it listens on host port 8080 (env PORT) on the host network'],
    [
      { config: { Labels: { 'ghost.healthcheck': 'tcp://127.0.0.1:6379' } } },
      true,
      'it listens on host port 6379 (label ghost.healthcheck) on the host network',
    ],
    [
      { config: { Labels: { 'ghost.healthcheck': 'http://127.0.0.1/health' } } },
      true,
      'it listens on host port 80 (label ghost.healthcheck) on the host network',
    ],
    [{ config: { ExposedPorts: { '80/tcp': {} } } }, true, 'it exposes 80/tcp on the host network'],
    [{ config: { Env: ['QUEUE=jobs'] } }, false, 'it listens on no port (a worker)'],
    [
      { hostConfig: { NetworkMode: 'shop', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8081' }] } } },
      true,
      'it publishes host port 8081->80/tcp',
    ],
    [
      { hostConfig: { NetworkMode: 'shop', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '' }] } } },
      false,
      'it publishes no fixed host port',
    ],
  ])('%j → %s', (over, fixed, why) => {
    expect(bindsFixedHostPort(containerInspect(over as Parameters<typeof containerInspect>[0]))).toEqual({
      fixed,
      why,
    });
  });

  it('counts ports the image exposes', () => {
    expect(
      bindsFixedHostPort(containerInspect({}), imageInspect({ ExposedPorts: { '8080/tcp': {} } })).fixed,
    ).toBe(true);
  });
});

describe('kept containers', () => {
  it('are named <name>-helm-<release> and left out of the active set', () => {
    expect(keptName('web', 'r12')).toBe('web-helm-r12');
    expect(keptRelease('web-helm-r12')).toBe('r12');
    expect(keptRelease('my-helm-chart')).toBeNull();
    expect(isKeptContainer({ name: 'web-1-helm-r3' })).toBe(true);
    const c = (name: string) => ({
      id: name,
      name,
      image: '',
      imageId: '',
      labels: {},
      state: '',
      status: '',
      createdAt: 0,
    });
    expect(
      activeContainers({
        name: 'web',
        via: 'ghost.service',
        composeProject: null,
        containers: [c('web'), c('web-helm-r1')],
      }).map((x) => x.name),
    ).toEqual(['web']);
  });
});

describe('image references', () => {
  it.each([
    ['helm-test/web:2', 'helm-test/web', 'docker.io'],
    ['127.0.0.1:5000/shop/web:2', '127.0.0.1:5000/shop/web', '127.0.0.1:5000'],
    [`127.0.0.1:5000/web@sha256:${'a'.repeat(64)}`, '127.0.0.1:5000/web', '127.0.0.1:5000'],
    ['localhost/web', 'localhost/web', 'localhost'],
    ['registry.example/web:1', 'registry.example/web', 'registry.example'],
    ['redis', 'redis', 'docker.io'],
  ])('%s → repository %s on %s', (ref, repo, registry) => {
    expect(repositoryOf(ref)).toBe(repo);
    expect(registryOf(repositoryOf(ref))).toBe(registry);
  });
});

describe('makeRegistryAuth', () => {
  it('reads Docker’s config format and adds the password to the redactor before anyone uses it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-auth-'));
    const file = join(dir, 'auth.json');
    const encoded = Buffer.from('forge:s3cret-passw0rd').toString('base64');
    writeFileSync(
      file,
      JSON.stringify({
        auths: {
          '127.0.0.1:5000': { auth: encoded },
          'https://other.example': { username: 'u', password: 'another-pass' },
        },
      }),
    );
    const redactor = new Redactor();
    const auth = makeRegistryAuth(file, redactor);
    expect(await auth('127.0.0.1:5000')).toEqual({
      username: 'forge',
      password: 's3cret-passw0rd',
      serveraddress: '127.0.0.1:5000',
    });
    expect(redactor.redact('pw s3cret-passw0rd and ' + encoded)).toBe('pw [redacted] and [redacted]');
    expect(await auth('other.example')).toMatchObject({ username: 'u', password: 'another-pass' });
    expect(await auth('nowhere.example')).toBeNull();
    expect(await makeRegistryAuth(join(dir, 'missing.json'), redactor)('127.0.0.1:5000')).toBeNull();
    unlinkSync(file);
    rmdirSync(dir);
  });
});

describe('release config: env in a record', () => {
  const redactor = new Redactor();
  redactor.add('known-secret-value');
  const info = containerInspect({
    config: {
      Env: ['PORT=3000', 'DB_PASSWORD=from-the-store', 'TOKEN=known-secret-value', 'EMPTY='],
      Labels: { 'helm.env-secrets': JSON.stringify({ DB_PASSWORD: 'db-password' }), 'helm.release': 'r1' },
    },
  });
  const config = captureConfig(info, redactor);

  it('keeps inline values, secret references, and withholds values it knows as secrets', () => {
    expect(config.env).toEqual([
      { name: 'PORT', value: '3000' },
      { name: 'DB_PASSWORD', secret: 'db-password' },
      { name: 'TOKEN', withheld: true },
      { name: 'EMPTY', value: '' },
    ]);
    expect(JSON.stringify(config)).not.toContain('from-the-store');
    expect(JSON.stringify(config)).not.toContain('known-secret-value');
  });

  it('recreates from a record reading secrets now, and refuses a withheld value', async () => {
    const secrets = {
      read: async (name: string) => `value-of-${name}`,
      scan: async () => ({ names: [], problems: [] }),
    };
    const withoutWithheld = { ...config, env: config.env.filter((e) => e.name !== 'TOKEN') };
    const o = await createOptionsFromRecord(withoutWithheld, {
      name: 'web',
      imageRef: 'helm-release/web-1:r1',
      helmLabels: { 'helm.release': 'r3' },
      secrets,
    });
    expect(o.Env).toEqual(['PORT=3000', 'DB_PASSWORD=value-of-db-password', 'EMPTY=']);
    expect(o.Labels?.['helm.release']).toBe('r3');
    await expect(
      createOptionsFromRecord(config, { name: 'web', imageRef: 'x', helmLabels: {}, secrets }),
    ).rejects.toBeInstanceOf(ReleaseNotRestorableError);
    await expect(
      createOptionsFromRecord(withoutWithheld, { name: 'web', imageRef: 'x', helmLabels: {} }),
    ).rejects.toThrow('env DB_PASSWORD needs secret "db-password" and Helm has no secret store');
  });
});
