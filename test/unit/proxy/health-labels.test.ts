import { describe, expect, it } from 'vitest';
import type { ContainerInspect } from '../../../src/docker/docker-objects.js';
import { healthLabelsOf } from '../../../src/proxy/health-labels.js';

type Info = Pick<ContainerInspect, 'Config'> & Partial<Pick<ContainerInspect, 'HostConfig'>>;
const info = (labels: Record<string, string>, env: string[] = [], bindings = {}): Info =>
  ({ Config: { Labels: labels, Env: env }, HostConfig: { PortBindings: bindings } }) as unknown as Info;
const ROUTE = { 'ghost.route.port': '8080', 'ghost.healthcheck': 'http://127.0.0.1:{port}/health' };

describe('healthLabelsOf: a routed container is checked on its own port', () => {
  it('renders {port} from its ghost.port.env variable, its instance-port label, or its published port', () => {
    const check = (i: Info) => healthLabelsOf(i)['ghost.healthcheck'];
    expect(check(info({ ...ROUTE, 'ghost.port.env': 'PORT' }, ['PORT=8123']))).toBe(
      'http://127.0.0.1:8123/health',
    );
    expect(
      check(info({ ...ROUTE, 'ghost.port.env': 'PORT', 'ghost.instance-port': '20001' }, ['PORT=8123'])),
    ).toBe('http://127.0.0.1:20001/health');
    expect(
      check(
        info({ ...ROUTE, 'ghost.port.container': '80' }, [], {
          '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '20002' }],
        }),
      ),
    ).toBe('http://127.0.0.1:20002/health');
  });

  it('leaves labels without {port}, unrouted ones and ones whose port cannot be told as they are', () => {
    const plain = { 'ghost.healthcheck': 'http://127.0.0.1:9000/health' };
    expect(healthLabelsOf(info(plain))).toEqual(plain);
    const noPort = { ...ROUTE, 'ghost.port.env': 'PORT' };
    expect(healthLabelsOf(info(noPort, []))).toEqual(noPort);
  });
});
