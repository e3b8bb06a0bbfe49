// privilegeProblems (the pure core of createContainer's refusal), case by case.
import { describe, expect, it } from 'vitest';
import type { HostConfig } from '../../../src/docker/docker-objects.js';
import { privilegeProblems } from '../../../src/docker/privileges.js';
import { containerInspect } from './fixtures.js';

const create = (hc: HostConfig) => ({ name: 'x', Image: 'i', HostConfig: hc });
const prevWith = (hc: HostConfig, mounts: Parameters<typeof containerInspect>[0]['mounts'] = []) =>
  containerInspect({ hostConfig: hc, mounts });
const kinds = (hc: HostConfig, prev: ReturnType<typeof containerInspect> | null = null) =>
  privilegeProblems(create(hc), prev).map((p) => p.kind);

describe('privilegeProblems', () => {
  it.each<[string, HostConfig, string]>([
    ['Privileged', { Privileged: true }, 'privileged'],
    ['CapAdd', { CapAdd: ['SYS_ADMIN'] }, 'cap_add'],
    ['PidMode host', { PidMode: 'host' }, 'pid_mode'],
    ['PidMode of another container', { PidMode: 'container:abc' }, 'pid_mode'],
    ['IpcMode host', { IpcMode: 'host' }, 'ipc_mode'],
    ['UsernsMode host', { UsernsMode: 'host' }, 'userns_mode'],
    [
      'Devices',
      { Devices: [{ PathOnHost: '/dev/sda', PathInContainer: '/dev/sda', CgroupPermissions: 'rwm' }] },
      'devices',
    ],
    ['DeviceCgroupRules', { DeviceCgroupRules: ['c 1:3 rwm'] }, 'devices'],
    ['DeviceRequests', { DeviceRequests: [{ Driver: 'nvidia', Count: -1 }] }, 'devices'],
    ['a bind in Binds', { Binds: ['/etc:/host-etc:ro'] }, 'bind_mount'],
    ['a bind in Mounts', { Mounts: [{ Type: 'bind', Source: '/', Target: '/host' }] }, 'bind_mount'],
    ['seccomp=unconfined', { SecurityOpt: ['seccomp=unconfined'] }, 'security_opt'],
  ])('refuses %s without a previous container', (_what, hc, kind) => {
    expect(kinds(hc)).toEqual([kind]);
  });

  it('allows ordinary settings: named volumes, harmless namespace modes, no-new-privileges, dropped caps', () => {
    expect(
      kinds({
        Binds: ['data:/data', 'cache:/cache:ro'],
        Mounts: [
          { Type: 'volume', Source: 'v', Target: '/v' },
          { Type: 'tmpfs', Source: '', Target: '/t' },
        ],
        IpcMode: 'shareable',
        PidMode: '',
        SecurityOpt: ['no-new-privileges', 'no-new-privileges:true'],
        CapDrop: ['ALL'],
        Privileged: false,
        CapAdd: null,
      }),
    ).toEqual([]);
  });

  it('allows exactly what the previous container had, and nothing more', () => {
    const prev = prevWith(
      {
        Privileged: true,
        CapAdd: ['NET_ADMIN'],
        PidMode: 'host',
        Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
        SecurityOpt: ['apparmor=unconfined'],
      },
      [{ Type: 'bind', Source: '/srv/data', Destination: '/data', RW: false, Mode: 'ro', Propagation: '' }],
    );
    expect(
      kinds(
        {
          Privileged: true,
          CapAdd: ['cap_net_admin'],
          PidMode: 'host',
          Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/fuse', CgroupPermissions: 'rwm' }],
          SecurityOpt: ['apparmor=unconfined'],
          Binds: ['/srv/data/:/data:ro'],
        },
        prev,
      ),
    ).toEqual([]);
    expect(
      privilegeProblems(
        create({
          CapAdd: ['NET_ADMIN', 'SYS_PTRACE'],
          IpcMode: 'host',
          Devices: [{ PathOnHost: '/dev/fuse', PathInContainer: '/dev/other', CgroupPermissions: 'rwm' }],
          Binds: ['/srv/data:/data'],
          SecurityOpt: ['seccomp=unconfined'],
        }),
        prev,
      ).map((p) => p.detail),
    ).toEqual([
      'added capability SYS_PTRACE',
      'IPC namespace mode "host"',
      'device /dev/fuse',
      'bind mount of host path /srv/data at /data',
      'security option "seccomp=unconfined"',
    ]);
  });

  it('treats a local-driver volume with a device option as a bind mount', () => {
    expect(
      kinds({
        Mounts: [
          {
            Type: 'volume',
            Source: '',
            Target: '/x',
            VolumeOptions: {
              NoCopy: false,
              Labels: {},
              DriverConfig: { Name: 'local', Options: { o: 'bind', device: '/etc' } },
            },
          },
        ],
      }),
    ).toEqual(['bind_mount']);
  });
});
