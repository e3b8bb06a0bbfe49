// Watchtower's subtraction, as recreateOptions applies it: what the container set itself is kept,
// what equals its old image's default is left out so the new image's default applies.
import { describe, expect, it } from 'vitest';
import { recreateOptions } from '../../../src/executor/replacement-options.js';
import { containerInspect, imageInspect } from './fixtures.js';

const helmLabels = { 'helm.op': 'op1', 'helm.release': 'r2', 'helm.previous': 'r1' };
const oldImage = imageInspect({
  Env: ['PATH=/bin', 'WEB_VERSION=1', 'PORT=8080'],
  Cmd: ['/bin/sh', '-c', 'serve'],
  Labels: {
    'helm.test.web-version': '1',
    'ghost.healthcheck': 'http://127.0.0.1:8080/health',
    'ghost.environment': 'dev',
  },
  WorkingDir: '/',
  User: '',
  ExposedPorts: { '8080/tcp': {} },
  Volumes: { '/cache': {} },
  Healthcheck: { Test: ['CMD', 'true'] },
});
const newImage = imageInspect({
  Env: ['PATH=/bin', 'WEB_VERSION=2', 'PORT=8080'],
  Labels: { 'ghost.environment': 'staging' },
});

function recreate(over: Parameters<typeof containerInspect>[0], image = newImage) {
  const r = recreateOptions({
    old: containerInspect(over),
    oldImage,
    newImage: image,
    imageRef: 'helm-test/web:2',
    name: 'web',
    helmLabels,
  });
  if (!r.ok) throw new Error(r.problem);
  return r.options;
}

const effective = {
  Env: ['PATH=/bin', 'WEB_VERSION=1', 'PORT=3000', 'OWN=yes'],
  Cmd: ['/bin/sh', '-c', 'serve'],
  Labels: {
    'helm.test.web-version': '1',
    'ghost.healthcheck': 'http://127.0.0.1:8080/health',
    'ghost.environment': 'dev',
    'ghost.service': 'web',
    'owner.label': 'kept',
  },
  WorkingDir: '/',
  ExposedPorts: { '8080/tcp': {}, '9000/tcp': {} },
  Volumes: { '/cache': {}, '/own': {} },
  Healthcheck: { Test: ['CMD', 'true'] },
};

describe('recreateOptions', () => {
  it('keeps the container’s own settings and leaves the old image’s defaults to the new image', () => {
    const o = recreate({ config: effective, hostConfig: { NetworkMode: 'host', Init: true } });
    expect(o.Image).toBe('helm-test/web:2');
    expect(o.name).toBe('web');
    expect(o.Env).toEqual(['PORT=3000', 'OWN=yes']);
    expect(o.Cmd).toBeUndefined();
    expect(o.Entrypoint).toBeUndefined();
    expect(o.WorkingDir).toBeUndefined();
    expect(o.Healthcheck).toBeUndefined();
    expect(o.Volumes).toEqual({ '/own': {} });
    expect(o.ExposedPorts).toEqual({ '9000/tcp': {} });
    expect(o.HostConfig).toMatchObject({ NetworkMode: 'host', Init: true });
    // Host networking shares the host's name: no Hostname of the old container.
    expect(o.Hostname).toBeUndefined();
  });

  it('writes identity labels from the old container’s effective values; ghost.healthcheck follows the image', () => {
    const o = recreate({ config: effective });
    expect(o.Labels).toEqual({
      'ghost.environment': 'dev', // pinned (came from the old image, still the container's identity)
      'ghost.service': 'web',
      'owner.label': 'kept',
      ...helmLabels,
    });
    expect(o.Labels).not.toHaveProperty('ghost.healthcheck');
    expect(o.Labels).not.toHaveProperty('helm.test.web-version');
  });

  it('refuses a new image that brings an identity label the container does not have', () => {
    const r = recreateOptions({
      old: containerInspect({ config: { Labels: { 'ghost.service': 'web' } } }),
      oldImage: imageInspect({}),
      newImage: imageInspect({ Labels: { 'ghost.role': 'helm' } }),
      imageRef: 'x',
      name: 'web',
      helmLabels,
    });
    expect(r).toEqual({
      ok: false,
      problem:
        'the new image sets label ghost.role=helm, which web does not have: an image may not give a service its identity labels',
    });
  });

  it('keeps a command, entrypoint, workdir, user and healthcheck the container set itself', () => {
    const o = recreate({
      config: {
        ...effective,
        Cmd: ['serve', '--fast'],
        Entrypoint: ['/entry'],
        WorkingDir: '/app',
        User: '1000',
        Healthcheck: { Test: ['CMD', 'false'] },
        StopTimeout: 30,
      },
    });
    expect(o).toMatchObject({
      Cmd: ['serve', '--fast'],
      Entrypoint: ['/entry'],
      WorkingDir: '/app',
      User: '1000',
      Healthcheck: { Test: ['CMD', 'false'] },
      StopTimeout: 30,
    });
  });

  it('keeps the Cmd when the container set its own entrypoint (Docker never gave it the image’s Cmd then)', () => {
    const o = recreate({ config: { ...effective, Entrypoint: ['/entry'] } });
    expect(o.Cmd).toEqual(['/bin/sh', '-c', 'serve']);
  });

  it('mounts the old container’s anonymous volumes by name so their data carries over; binds stay as they were', () => {
    const o = recreate({
      config: effective,
      hostConfig: { NetworkMode: 'host', Binds: ['data:/data'] },
      mounts: [
        {
          Type: 'volume',
          Name: 'data',
          Source: '/var/lib/docker/volumes/data/_data',
          Destination: '/data',
          RW: true,
          Mode: 'z',
          Propagation: '',
        },
        {
          Type: 'volume',
          Name: 'f00d',
          Source: '/var/lib/docker/volumes/f00d/_data',
          Destination: '/cache',
          RW: true,
          Mode: '',
          Propagation: '',
        },
      ],
    });
    expect(o.HostConfig?.Binds).toEqual(['data:/data']);
    expect(o.HostConfig?.Mounts).toEqual([
      { Type: 'volume', Source: 'f00d', Target: '/cache', ReadOnly: false },
    ]);
  });

  it('exposes the ports the container publishes, and keeps a hostname it set on a bridge network', () => {
    const o = recreate({
      config: { ...effective, Hostname: 'shop-web' },
      hostConfig: { NetworkMode: 'default', PortBindings: { '80/tcp': [{ HostPort: '8081' }] } },
    });
    expect(o.ExposedPorts).toEqual({ '9000/tcp': {}, '80/tcp': {} });
    expect(o.Hostname).toBe('shop-web');
  });
});
