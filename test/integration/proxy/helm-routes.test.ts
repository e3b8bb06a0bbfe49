// A running Helm (monitor worker) gives a routed service its route in the front proxy: one that was
// running before Helm started, and one started while Helm runs (issue 11). Real Helm, Docker, Caddy.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCaddyAdmin } from '../../../src/proxy/caddy-admin.js';
import { upstream } from '../../../src/proxy/proxy-port.js';
import { startTestCaddy, type TestCaddy } from '../../helpers/caddy.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { freePort, removeTestContainers, startWebService } from '../../helpers/docker.js';
import { startTestHelm, type TestHelm } from '../../helpers/helm.js';

describe('Helm keeps routed services served', () => {
  let caddy: TestCaddy;
  let helm: TestHelm | undefined;
  beforeAll(async () => {
    caddy = await startTestCaddy();
  });
  afterAll(async () => {
    await helm?.close();
    await caddy?.destroy();
    await removeTestContainers();
  });

  it('routes a service running before start-up and one started after, and logs each', async () => {
    const proxy = makeCaddyAdmin({ adminUrl: caddy.adminUrl });
    const scope = `s-${uniqueName('proxy')}`;
    const routed = (service: string, port: number) => ({
      'ghost.scope': scope,
      'ghost.service': service,
      'ghost.route.port': String(port),
      'ghost.port.env': 'PORT',
    });
    const before = uniqueName('before');
    const early = await startWebService({ labels: routed(before, await freePort()), healthcheck: true });

    helm = await startTestHelm({
      HELM_PROXY_ADMIN: caddy.adminUrl,
      HELM_PROXY_BIND: '127.0.0.1',
      HELM_SCOPE_LABELS: `ghost.scope=${scope}`,
      HELM_WORKERS: 'monitor',
    });
    const first = await waitFor(() => proxy.readRoute(before), `the route of ${before}`);
    expect(first.upstreams).toEqual([upstream(early.port)]);

    const after = uniqueName('after');
    const late = await startWebService({ labels: routed(after, await freePort()) });
    const second = await waitFor(() => proxy.readRoute(after), `the route of ${after}`);
    expect(second.upstreams).toEqual([upstream(late.port)]);
    expect(helm.logLines.some((l) => l.includes(`proxy: created the route of ${after}`))).toBe(true);
  });
});
