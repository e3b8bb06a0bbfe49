// The narrow Docker surface refuses, one by one, the privileges a new container may only have when
// the container it replaces had exactly that one: tested against makeDockerOps itself on the real
// engine (a refused create reaches Docker not at all; the allowed twin is created).
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ContainerCreateRefusedError } from '../../../src/docker/docker-errors.js';
import type { ContainerCreateOptions, HostConfig } from '../../../src/docker/docker-objects.js';
import type { DockerOps } from '../../../src/docker/docker-ports.js';
import type { PrivilegeKind } from '../../../src/docker/privileges.js';
import { makeDockerOps } from '../../../src/docker/dockerode-ops.js';
import { removeTestContainers, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import { exists, inspect } from './exec-harness.js';

let ops: DockerOps;
let hostDir: string;
beforeAll(() => {
  ops = makeDockerOps(process.env['DOCKER_HOST']);
  hostDir = mkdtempSync(join(tmpdir(), 'helm-guard-'));
});
afterAll(async () => {
  await removeTestContainers();
  rmdirSync(hostDir);
});

function options(name: string, hostConfig: HostConfig): ContainerCreateOptions {
  return {
    name,
    Image: WEB_IMAGE_V1,
    Labels: testLabels(),
    HostConfig: { NetworkMode: 'host', Init: true, ...hostConfig },
  };
}

/** A container created (never started) straight through dockerode: the "previous release". */
async function previousWith(hostConfig: HostConfig) {
  const c = await testDocker().createContainer(options(uniqueName('guard-prev'), hostConfig));
  return inspect(c.id);
}

const CASES: Array<{ kind: PrivilegeKind; what: string; hostConfig: () => HostConfig }> = [
  { kind: 'privileged', what: 'Privileged mode', hostConfig: () => ({ Privileged: true }) },
  { kind: 'cap_add', what: 'added capability NET_ADMIN', hostConfig: () => ({ CapAdd: ['NET_ADMIN'] }) },
  { kind: 'pid_mode', what: 'PID namespace mode "host"', hostConfig: () => ({ PidMode: 'host' }) },
  { kind: 'ipc_mode', what: 'IPC namespace mode "host"', hostConfig: () => ({ IpcMode: 'host' }) },
  {
    kind: 'devices',
    what: 'device /dev/null',
    hostConfig: () => ({
      Devices: [{ PathOnHost: '/dev/null', PathInContainer: '/dev/helm-null', CgroupPermissions: 'rwm' }],
    }),
  },
  {
    kind: 'bind_mount',
    what: 'bind mount of host path',
    hostConfig: () => ({ Binds: [`${hostDir}:/data`] }),
  },
  {
    kind: 'bind_mount',
    what: 'bind mount of host path',
    hostConfig: () => ({ Mounts: [{ Type: 'bind', Source: hostDir, Target: '/data' }] }),
  },
  {
    kind: 'security_opt',
    what: 'security option "seccomp=unconfined"',
    hostConfig: () => ({ SecurityOpt: ['seccomp=unconfined'] }),
  },
];

describe('createContainer refuses what the replaced container did not have', () => {
  for (const c of CASES) {
    it(`${c.kind}: ${JSON.stringify(c.hostConfig()).slice(0, 80)}`, async () => {
      // Refused with no previous container (a first release)…
      const name = uniqueName(`guard-${c.kind}`);
      const err = await ops
        .createContainer(options(name, c.hostConfig()), { allowedFrom: null })
        .catch((e) => e);
      expect(err).toBeInstanceOf(ContainerCreateRefusedError);
      expect((err as ContainerCreateRefusedError).problems.map((p) => p.kind)).toEqual([c.kind]);
      expect((err as Error).message).toContain(c.what);
      expect(await exists(name)).toBe(false);

      // …and with a previous container that did not have it…
      const plain = await previousWith({});
      const err2 = await ops
        .createContainer(options(name, c.hostConfig()), { allowedFrom: plain })
        .catch((e) => e);
      expect(err2).toBeInstanceOf(ContainerCreateRefusedError);
      expect(await exists(name)).toBe(false);

      // …but allowed when the previous container had exactly that.
      const prev = await previousWith(c.hostConfig());
      const id = await ops.createContainer(options(name, c.hostConfig()), { allowedFrom: prev });
      expect((await inspect(id)).Name).toBe(`/${name}`);
    });
  }

  it('allows no more than the previous container had: one more capability, a read-write bind of a read-only one', async () => {
    const prev = await previousWith({ CapAdd: ['NET_ADMIN'], Binds: [`${hostDir}:/data:ro`] });
    const name = uniqueName('guard-more');
    const more = await ops
      .createContainer(
        options(name, { CapAdd: ['NET_ADMIN', 'SYS_ADMIN'], Binds: [`${hostDir}:/data:ro`] }),
        {
          allowedFrom: prev,
        },
      )
      .catch((e) => e);
    expect((more as ContainerCreateRefusedError).problems).toEqual([
      { kind: 'cap_add', detail: 'added capability SYS_ADMIN' },
    ]);
    const rw = await ops
      .createContainer(options(name, { CapAdd: ['CAP_NET_ADMIN'], Binds: [`${hostDir}:/data`] }), {
        allowedFrom: prev,
      })
      .catch((e) => e);
    expect((rw as ContainerCreateRefusedError).problems).toEqual([
      { kind: 'bind_mount', detail: `bind mount of host path ${hostDir} at /data` },
    ]);
    expect(await exists(name)).toBe(false);
    // The same (capability spelled CAP_…, bind still read-only) is allowed.
    const id = await ops.createContainer(
      options(name, { CapAdd: ['CAP_NET_ADMIN'], Binds: [`${hostDir}:/data:ro`] }),
      {
        allowedFrom: prev,
      },
    );
    expect(await exists(id)).toBe(true);
  });

  it('refuses a volume mount that is a bind in disguise (local driver, device option) and a host user namespace', async () => {
    const name = uniqueName('guard-disguise');
    const err = await ops
      .createContainer(
        options(name, {
          Mounts: [
            {
              Type: 'volume',
              Source: '',
              Target: '/data',
              VolumeOptions: {
                NoCopy: false,
                Labels: {},
                DriverConfig: { Name: 'local', Options: { type: 'none', o: 'bind', device: hostDir } },
              },
            },
          ],
          UsernsMode: 'host',
        }),
        { allowedFrom: null },
      )
      .catch((e) => e);
    expect((err as ContainerCreateRefusedError).problems.map((p) => p.kind).sort()).toEqual([
      'bind_mount',
      'userns_mode',
    ]);
    expect(await exists(name)).toBe(false);
  });

  it('creates an ordinary container (named volume, no privileges) without a previous one', async () => {
    const name = uniqueName('guard-ok');
    const id = await ops.createContainer(
      options(name, { Binds: [`${uniqueName('helm-guard-vol')}:/data`] }),
      {
        allowedFrom: null,
      },
    );
    const info = await inspect(id);
    expect(info.Mounts[0]?.Type).toBe('volume');
    await testDocker().getContainer(id).remove({ force: true, v: true });
    const volume = info.Mounts[0]?.Name;
    if (volume) await testDocker().getVolume(volume).remove();
  });
});
