// The proxy port on a real Caddy (test/helpers/caddy.ts): Helm's routes created, read back,
// switched and removed through the admin API, the owner's config left exactly as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCaddyAdmin } from '../../../src/proxy/caddy-admin.js';
import { ProxyError, type ProxyPort, upstream } from '../../../src/proxy/proxy-port.js';
import { OWNER_ROUTE_ID, startTestCaddy, type TestCaddy } from '../../helpers/caddy.js';
import { freePort } from '../../helpers/docker.js';
import { type NamedUpstream, requestLoop, startNamedUpstream } from '../../helpers/http-upstream.js';

describe('Caddy admin adapter', () => {
  let caddy: TestCaddy;
  let proxy: ProxyPort;
  let blue: NamedUpstream;
  let green: NamedUpstream;
  let ownerConfig: unknown;

  beforeAll(async () => {
    caddy = await startTestCaddy({ front: true });
    proxy = makeCaddyAdmin({ adminUrl: caddy.adminUrl });
    blue = await startNamedUpstream('blue');
    green = await startNamedUpstream('green');
    ownerConfig = await caddy.getConfig('');
  });
  afterAll(async () => {
    await caddy?.destroy();
    await blue?.close();
    await green?.close();
  });

  it('creates a port route that serves on its own listener, reads it back, and removes it with its listener', async () => {
    const port = await freePort();
    const spec = { service: 'web-a', listen: { kind: 'port' as const, port, bindHost: '127.0.0.1' } };
    expect(await proxy.readRoute('web-a')).toBeNull();
    await proxy.createRoute(spec, [upstream(blue.port)]);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('blue');
    expect(await proxy.readRoute('web-a')).toEqual({
      service: 'web-a',
      id: 'helm-web-a',
      upstreams: [upstream(blue.port)],
    });

    await expect(proxy.createRoute(spec, [upstream(green.port)])).rejects.toThrow(
      /the proxy refused PUT .*already exists/,
    );

    await proxy.removeRoute('web-a');
    expect(await proxy.readRoute('web-a')).toBeNull();
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    await proxy.removeRoute('web-a'); // absent: nothing to do
    expect(await caddy.getConfig('')).toEqual(ownerConfig);
  });

  it('switches the upstreams: after each switch only the new upstream answers, the route reads it back', async () => {
    const port = await freePort();
    await proxy.createRoute({ service: 'web-b', listen: { kind: 'port', port, bindHost: '127.0.0.1' } }, [
      upstream(blue.port),
    ]);
    const url = `http://127.0.0.1:${port}/`;
    for (const next of [green, blue, green]) {
      await proxy.replaceUpstreams('web-b', [upstream(next.port)]);
      expect((await proxy.readRoute('web-b'))?.upstreams).toEqual([upstream(next.port)]);
      const { bodies, failures } = await requestLoop(url, 6, 1);
      expect(failures).toEqual([]);
      expect(bodies).toEqual(new Map([[next.name, 6]]));
    }
    // Only the upstreams changed: the listener is the one Helm created.
    expect(await caddy.getConfig('apps/http/servers/helm-web-b/listen')).toEqual([`127.0.0.1:${port}`]);
    await proxy.removeRoute('web-b');
  });

  it("puts a host route first on the owner's server and leaves the owner's route serving", async () => {
    const front = `http://127.0.0.1:${caddy.frontPort}`;
    await proxy.createRoute(
      { service: 'shop', listen: { kind: 'host', host: 'shop.test', server: 'front' } },
      [upstream(green.port)],
    );
    const routes = (await caddy.getConfig('apps/http/servers/front/routes')) as Array<{ '@id': string }>;
    expect(routes.map((r) => r['@id'])).toEqual(['helm-shop', OWNER_ROUTE_ID]);
    expect((await requestLoop(`${front}/`, 4, 1, { host: 'shop.test' })).bodies).toEqual(
      new Map([['green', 4]]),
    );
    expect(await (await fetch(`${front}/owner`)).text()).toBe('owner');

    await proxy.removeRoute('shop');
    expect(await proxy.readRoute('shop')).toBeNull();
    expect(await caddy.getConfig('')).toEqual(ownerConfig);
  });

  it('says in plain words when the route is gone or the admin API does not answer', async () => {
    const missing = proxy.replaceUpstreams('never-made', [upstream(blue.port)]);
    await expect(missing).rejects.toBeInstanceOf(ProxyError);
    await expect(missing).rejects.toThrow(
      "the proxy refused PATCH /id/helm-never-made/handle/0/upstreams: 404 unknown object ID 'helm-never-made'",
    );
    const nowhere = makeCaddyAdmin({ adminUrl: `http://127.0.0.1:${await freePort()}`, timeoutMs: 2000 });
    await expect(nowhere.ping()).rejects.toThrow(
      /the proxy's admin API at http:\/\/127\.0\.0\.1:\d+ did not answer GET/,
    );
    await expect(proxy.ping()).resolves.toBeUndefined();
  });

  it("refuses to read a route under Helm's id that Helm did not make", async () => {
    const res = await fetch(`${caddy.adminUrl}/config/apps/http/servers/front/routes/0`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ '@id': 'helm-forged', handle: [{ handler: 'static_response', body: 'x' }] }),
    });
    expect(res.status).toBe(200);
    await expect(proxy.readRoute('forged')).rejects.toThrow(/"helm-forged" is not one Helm made/);
    await fetch(`${caddy.adminUrl}/id/helm-forged`, { method: 'DELETE' });
  });
});
