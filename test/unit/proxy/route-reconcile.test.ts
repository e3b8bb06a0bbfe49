// Which routes a start-up or a container start creates (issue 11), decided as data.
import { describe, expect, it } from 'vitest';
import { upstream } from '../../../src/proxy/proxy-port.js';
import { planRoute } from '../../../src/proxy/route-reconcile.js';
import { routedServiceOf } from '../../../src/proxy/route-watch.js';
import { containerInspect } from '../executor/fixtures.js';

const settings = { server: 'srv0', bindHost: '127.0.0.1' };
const routedLabels = {
  'ghost.service': 'web',
  'ghost.route.port': '8080',
  'ghost.port.env': 'PORT',
  'ghost.healthcheck': 'http://127.0.0.1:{port}/health',
};
function instance(
  port: number,
  over: { running?: boolean; health?: string; labels?: Record<string, string> } = {},
) {
  const info = containerInspect({
    name: `web-${port}`,
    running: over.running ?? true,
    config: { Labels: { ...routedLabels, ...over.labels }, Env: [`PORT=${port}`, 'OTHER=1'] },
  });
  if (over.health) info.State.Health = { Status: over.health } as NonNullable<typeof info.State.Health>;
  return info;
}

describe('planRoute', () => {
  it('creates the missing route with every running healthy instance as an upstream, in port order', () => {
    expect(planRoute('web', [instance(20002), instance(20001)], false, settings)).toEqual({
      service: 'web',
      kind: 'create',
      spec: { service: 'web', listen: { kind: 'port', port: 8080, bindHost: '127.0.0.1' } },
      upstreams: [upstream(20001), upstream(20002)],
    });
  });

  it('leaves out instances that are stopped, unhealthy or still starting', () => {
    const action = planRoute(
      'web',
      [
        instance(20001, { running: false }),
        instance(20002, { health: 'unhealthy' }),
        instance(20003, { health: 'starting' }),
        instance(20004, { health: 'healthy' }),
      ],
      false,
      settings,
    );
    expect(action.kind === 'create' && action.upstreams).toEqual([upstream(20004)]);
  });

  it('reads the port Helm labelled on its instance before the env var', () => {
    const action = planRoute(
      'web',
      [instance(20001, { labels: { 'ghost.instance-port': '20009' } })],
      false,
      settings,
    );
    expect(action.kind === 'create' && action.upstreams).toEqual([upstream(20009)]);
  });

  it('puts a host route on the owner server', () => {
    const info = instance(20001);
    info.Config.Labels = {
      'ghost.service': 'shop',
      'ghost.route.host': 'shop.example.com',
      'ghost.port.env': 'PORT',
    };
    const action = planRoute('shop', [info], false, settings);
    expect(action.kind === 'create' && action.spec.listen).toEqual({
      kind: 'host',
      host: 'shop.example.com',
      server: 'srv0',
    });
  });

  it('keeps a route that is there, whatever it points at', () => {
    expect(planRoute('web', [instance(20001)], true, settings)).toEqual({
      service: 'web',
      kind: 'keep',
      reason: 'the route is there',
    });
  });

  it('skips, saying why: not routed, bad labels, nothing serving', () => {
    const plain = containerInspect({ config: { Labels: { 'ghost.service': 'web' } } });
    expect(planRoute('web', [plain], false, settings)).toMatchObject({ kind: 'skip', reason: /not routed/ });
    expect(
      planRoute('web', [instance(20001, { labels: { 'ghost.route.host': 'x.example' } })], false, settings),
    ).toEqual({
      service: 'web',
      kind: 'skip',
      reason: 'set one of ghost.route.port and ghost.route.host, not both',
    });
    expect(planRoute('web', [instance(20001, { running: false })], false, settings)).toEqual({
      service: 'web',
      kind: 'skip',
      reason: 'no running healthy instance with a known port',
    });
  });
});

describe('routedServiceOf', () => {
  const event = (action: string, health: string | null, attributes: Record<string, string>) => ({
    action,
    health,
    id: 'c1',
    attributes,
    at: 0,
  });
  const routed = { 'ghost.service': 'web', 'ghost.route.port': '8080', name: 'web-1' };

  it('names the service of a routed container that starts or turns healthy', () => {
    expect(routedServiceOf(event('start', null, routed))).toBe('web');
    expect(routedServiceOf(event('health_status', 'healthy', routed))).toBe('web');
  });

  it('ignores other events and containers without route labels', () => {
    expect(routedServiceOf(event('health_status', 'unhealthy', routed))).toBeNull();
    expect(routedServiceOf(event('die', null, routed))).toBeNull();
    expect(routedServiceOf(event('start', null, { 'ghost.service': 'web' }))).toBeNull();
  });
});
