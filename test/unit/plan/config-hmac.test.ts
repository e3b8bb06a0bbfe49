import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/contracts/index.js';
import { deriveKey } from '../../../src/keys/helm-key.js';
import { ConfigHmacError, configFingerprint, configHmac } from '../../../src/plan/config-hmac.js';
import { CONFIG_KEY, hex64, IMAGE_B, inspectFixture, reverseKeys } from './inspect-fixture.js';

const ID = hex64('1');
const base = () => inspectFixture(ID, 'web-1');

describe('configHmac', () => {
  it('is the HMAC-SHA256 of the canonical fingerprint, lowercase hex', () => {
    const inspect = base();
    const expected = createHmac('sha256', CONFIG_KEY)
      .update(canonicalJson(configFingerprint(inspect)))
      .digest('hex');
    expect(configHmac(inspect, CONFIG_KEY)).toBe(expected);
    expect(configHmac(inspect, CONFIG_KEY)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('fingerprints exactly the listed fields, absent ones as null', () => {
    const inspect = inspectFixture(ID, 'web-1', {
      Config: { Healthcheck: undefined, Entrypoint: undefined, Labels: null },
      HostConfig: { Binds: undefined, Mounts: undefined },
    });
    expect(configFingerprint(inspect)).toEqual({
      Image: 'registry.example.com/shop/web:1.2.3',
      Cmd: ['node', 'server.js'],
      Entrypoint: null,
      Env: ['NODE_ENV=production', 'API_URL=https://api.example.com', 'PATH=/usr/local/bin:/usr/bin'],
      Labels: null,
      Healthcheck: null,
      HostConfig: {
        Binds: null,
        Mounts: null,
        PortBindings: { '8080/tcp': [{ HostIp: '', HostPort: '8080' }] },
        NetworkMode: 'shop_default',
        RestartPolicy: { Name: 'unless-stopped', MaximumRetryCount: 0 },
        Privileged: false,
        CapAdd: null,
      },
    });
  });

  it('does not change when the container merely restarts, or with key order', () => {
    const before = configHmac(base(), CONFIG_KEY);
    const restarted = inspectFixture(ID, 'web-1', {
      State: { StartedAt: '2026-11-30T01:00:00.000000000Z', Pid: 9999, Health: { Status: 'starting' } },
      RestartCount: 7,
      NetworkSettings: { Ports: { '8080/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }] }, Networks: {} },
      Created: '2026-12-01T00:00:00Z',
    });
    expect(configHmac(restarted, CONFIG_KEY)).toBe(before);
    expect(configHmac(reverseKeys(base()), CONFIG_KEY)).toBe(before);
  });

  it('does not change with fields outside the list (the image id is the plan image_id, not this)', () => {
    const before = configHmac(base(), CONFIG_KEY);
    expect(configHmac(inspectFixture(ID, 'web-1', { Image: IMAGE_B }), CONFIG_KEY)).toBe(before);
    expect(configHmac(inspectFixture(ID, 'web-1', { HostConfig: { Memory: 512 } }), CONFIG_KEY)).toBe(before);
    expect(configHmac(inspectFixture(ID, 'web-1', { Config: { Hostname: 'x' } }), CONFIG_KEY)).toBe(before);
  });

  const changes: [string, Record<string, unknown>][] = [
    ['Config.Image', { Config: { Image: 'registry.example.com/shop/web:1.2.4' } }],
    ['Config.Cmd', { Config: { Cmd: ['node', 'server.js', '--debug'] } }],
    ['Config.Entrypoint', { Config: { Entrypoint: ['/tini', '--'] } }],
    ['Config.Entrypoint string vs array', { Config: { Entrypoint: '/tini' } }],
    [
      'an Env value',
      {
        Config: {
          Env: ['NODE_ENV=staging', 'API_URL=https://api.example.com', 'PATH=/usr/local/bin:/usr/bin'],
        },
      },
    ],
    [
      'the Env order',
      {
        Config: {
          Env: ['API_URL=https://api.example.com', 'NODE_ENV=production', 'PATH=/usr/local/bin:/usr/bin'],
        },
      },
    ],
    [
      'a Label',
      {
        Config: {
          Labels: {
            'ghost.service': 'web',
            'ghost.environment': 'dev',
            'com.docker.compose.project': 'shop',
          },
        },
      },
    ],
    ['Healthcheck.Interval', { Config: { Healthcheck: { Interval: 31_000_000_000 } } }],
    ['Healthcheck.Test', { Config: { Healthcheck: { Test: ['NONE'] } } }],
    ['HostConfig.Binds', { HostConfig: { Binds: ['/srv/web/data:/data:ro'] } }],
    ['HostConfig.Mounts', { HostConfig: { Mounts: [] } }],
    [
      'HostConfig.PortBindings',
      { HostConfig: { PortBindings: { '8080/tcp': [{ HostIp: '', HostPort: '8081' }] } } },
    ],
    ['HostConfig.NetworkMode', { HostConfig: { NetworkMode: 'host' } }],
    ['HostConfig.RestartPolicy', { HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } }],
    ['HostConfig.Privileged', { HostConfig: { Privileged: true } }],
    ['HostConfig.CapAdd', { HostConfig: { CapAdd: ['NET_ADMIN'] } }],
    ['Privileged false → absent', { HostConfig: { Privileged: undefined } }],
  ];
  it.each(changes)('changes when %s changes', (_name, over) => {
    expect(configHmac(inspectFixture(ID, 'web-1', over), CONFIG_KEY)).not.toBe(
      configHmac(base(), CONFIG_KEY),
    );
  });

  it('depends on the key', () => {
    const helmKey = Buffer.alloc(32, 1);
    const a = configHmac(base(), deriveKey(helmKey, 'config-hmac'));
    expect(configHmac(base(), deriveKey(helmKey, 'secret-hmac'))).not.toBe(a);
    expect(configHmac(base(), deriveKey(Buffer.alloc(32, 2), 'config-hmac'))).not.toBe(a);
  });

  it('refuses floats and unsafe integers, naming the container and the field', () => {
    const float = inspectFixture(ID, 'web-1', { Config: { Healthcheck: { Interval: 1.5e9 + 0.5 } } });
    expect(() => configHmac(float, CONFIG_KEY)).toThrow(ConfigHmacError);
    expect(() => configHmac(float, CONFIG_KEY)).toThrow(
      /^cannot compute config_hmac of container 111111111111: canonical JSON refuses a non-integer number at Healthcheck\.Interval/,
    );
    const huge = inspectFixture(ID, 'web-1', {
      HostConfig: { RestartPolicy: { MaximumRetryCount: 2 ** 60 } },
    });
    expect(() => configHmac(huge, CONFIG_KEY)).toThrow(/beyond ±\(2\^53 − 1\) at HostConfig\.RestartPolicy/);
  });

  it('refuses a missing or short key', () => {
    expect(() => configHmac(base(), Buffer.alloc(0))).toThrow(ConfigHmacError);
    expect(() => configHmac(base(), 'secret' as unknown as Buffer)).toThrow(ConfigHmacError);
  });
});
