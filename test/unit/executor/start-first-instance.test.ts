// A start-first instance's create options, as data (issue 11): moved onto its own port, its
// healthcheck rendered for that port and the owner's template kept.
import { describe, expect, it } from 'vitest';
import { instanceName, instanceOptions } from '../../../src/executor/start-first-instance.js';
import type { RoutedService } from '../../../src/proxy/route-labels.js';

const base = {
  Image: 'registry.example/web:2',
  Env: ['PORT=8080', 'LOG_LEVEL=info'],
  Labels: { 'ghost.service': 'web', 'ghost.healthcheck': 'http://127.0.0.1:{port}/health' },
  HostConfig: { NetworkMode: 'host' },
};
const viaEnv: RoutedService = {
  route: { kind: 'port', port: 8080 },
  instancePort: { kind: 'env', name: 'PORT' },
  healthcheck: 'http://127.0.0.1:{port}/health',
  zeroDowntime: false,
};

describe('instanceOptions', () => {
  it('host network: the app is told its port; the healthcheck is rendered, the template kept', () => {
    expect(instanceOptions(base, viaEnv, 20001, instanceName('web', 20001))).toEqual({
      ...base,
      name: 'web-i20001',
      Env: ['LOG_LEVEL=info', 'PORT=20001'],
      Labels: {
        'ghost.service': 'web',
        'ghost.instance-port': '20001',
        'ghost.healthcheck': 'http://127.0.0.1:20001/health',
        'ghost.healthcheck.template': 'http://127.0.0.1:{port}/health',
      },
    });
  });

  it('bridge network: the container port is published to the instance port on loopback; no healthcheck means tcp', () => {
    const routed: RoutedService = {
      ...viaEnv,
      instancePort: { kind: 'container', port: 80 },
      healthcheck: null,
    };
    const options = instanceOptions(
      { ...base, Labels: { 'ghost.service': 'web' }, HostConfig: { NetworkMode: 'shop' } },
      routed,
      20002,
      'web-i20002',
    );
    expect(options.HostConfig).toEqual({
      NetworkMode: 'shop',
      PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '20002' }] },
    });
    expect(options.Env).toEqual(base.Env);
    expect(options.Labels?.['ghost.healthcheck']).toBe('tcp://127.0.0.1:20002');
  });
});
