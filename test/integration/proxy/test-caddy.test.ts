// The test bed's Caddy (test/helpers/caddy.ts): a real caddy of the file's own, admin API on a
// loopback port, the owner's server serving, and gone after destroy().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER_ROUTE_ID, startTestCaddy, type TestCaddy } from '../../helpers/caddy.js';

describe('test bed: a Caddy per test file', () => {
  let caddy: TestCaddy;
  beforeAll(async () => {
    caddy = await startTestCaddy({ front: true });
  });
  afterAll(async () => {
    await caddy?.destroy();
  });

  it('answers on its own loopback admin port and serves the owner route on its own front port', async () => {
    expect(caddy.adminUrl).toBe(`http://127.0.0.1:${caddy.adminPort}`);
    expect(await caddy.getConfig('admin/listen')).toBe(`127.0.0.1:${caddy.adminPort}`);
    const owner = await fetch(`http://127.0.0.1:${caddy.frontPort}/owner`);
    expect(owner.status).toBe(200);
    expect(await owner.text()).toBe('owner');
    const route = await fetch(`${caddy.adminUrl}/id/${OWNER_ROUTE_ID}`);
    expect(route.status).toBe(200);
  });

  it('restart() comes back from the original config, without what was added since', async () => {
    const added = await fetch(`${caddy.adminUrl}/config/apps/http/servers/extra`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ listen: ['127.0.0.1:0'] }),
    });
    expect(added.status).toBe(200);
    const before = caddy.pid();
    await caddy.restart();
    expect(caddy.pid()).not.toBe(before);
    expect(await caddy.getConfig('apps/http/servers/extra')).toBeNull();
    expect(await caddy.getConfig(`apps/http/servers/front/listen`)).toEqual([`127.0.0.1:${caddy.frontPort}`]);
  });

  it('destroy() stops it: the admin port no longer answers', async () => {
    const other = await startTestCaddy();
    await other.destroy();
    await expect(fetch(`${other.adminUrl}/config/`)).rejects.toThrow();
  });
});
