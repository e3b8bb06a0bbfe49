// Proves the test bed itself: the scratch web image, testcontainers on host networking, labels and
// removal, the throwaway Redis surviving restarts through its AOF, free ports.
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import {
  freePort,
  LABEL_FILE,
  LABEL_RUN,
  removeTestContainers,
  startWebService,
  testDocker,
  testLabels,
  testRunId,
  WEB_IMAGE_V2,
} from '../helpers/docker.js';
import { freshPrefix } from '../helpers/queue-prefix.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis-server.js';

afterAll(async () => {
  await removeTestContainers();
});

async function waitForHealth(id: string, wanted: string, timeoutMs = 15_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let status = 'none';
  while (Date.now() < deadline) {
    status = (await testDocker().getContainer(id).inspect()).State.Health?.Status ?? 'none';
    if (status === wanted) return status;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return status;
}

describe('web test image on host networking', () => {
  it('answers /health on its loopback port, turns healthy, carries the labels, and is removed', async () => {
    const web = await startWebService({ labels: { 'ghost.service': 'test-bed-web' } });
    const health = await fetch(`${web.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok');
    expect(await (await fetch(`${web.url}/`)).text()).toContain('version 1');

    expect(await waitForHealth(web.id, 'healthy')).toBe('healthy');

    const info = await testDocker().getContainer(web.id).inspect();
    expect(info.HostConfig.NetworkMode).toBe('host');
    expect(info.HostConfig.Init).toBe(true);
    expect(info.Config.Labels).toMatchObject({
      'helm.test': '1',
      [LABEL_RUN]: testRunId(),
      [LABEL_FILE]: 'test/integration/test-bed.test.ts',
      'ghost.service': 'test-bed-web',
      'org.testcontainers': 'true',
    });
    expect(info.Config.Env).toContain('WEB_VERSION=1');

    const removed = await removeTestContainers({ [LABEL_RUN]: testRunId(), 'ghost.service': 'test-bed-web' });
    expect(removed).toEqual([web.id]);
    await expect(testDocker().getContainer(web.id).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await expect(fetch(`${web.url}/health`)).rejects.toThrow();
  });

  it('tells version 2 apart and turns unhealthy with WEB_FAIL_HEALTH=1', async () => {
    const web = await startWebService({ image: WEB_IMAGE_V2, env: { WEB_FAIL_HEALTH: '1' } });
    expect(await (await fetch(`${web.url}/`)).text()).toContain('version 2');
    expect((await fetch(`${web.url}/health`)).status).toBe(404);
    const info = await testDocker().getContainer(web.id).inspect();
    expect(info.Config.Labels['helm.test.web-version']).toBe('2');
    expect(info.Config.Env).toContain('WEB_VERSION=2');
    expect(await waitForHealth(web.id, 'unhealthy')).toBe('unhealthy');
    const started = Date.now();
    await web.container.stop();
    expect(Date.now() - started).toBeLessThan(3000); // init forwards SIGTERM
  });

  it('waits for the Docker health check when asked', async () => {
    const web = await startWebService({ healthcheck: true });
    const info = await testDocker().getContainer(web.id).inspect();
    expect(info.State.Health?.Status).toBe('healthy');
    expect(testLabels({ a: 'b' })).toMatchObject({ 'helm.test': '1', a: 'b' });
  });
});

describe('throwaway redis', () => {
  let redis: ThrowawayRedis | undefined;
  afterAll(async () => {
    await redis?.destroy();
  });

  async function withClient<T>(url: string, fn: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis(url, { maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => {}); // surfaced by the rejected command
    await client.connect();
    try {
      return await fn(client);
    } finally {
      client.disconnect();
    }
  }

  it('keeps data through a graceful restart and through kill -9 (AOF)', async () => {
    redis = await startThrowawayRedis({ aof: true });
    const r = redis;
    const prefix = freshPrefix();
    expect(prefix).toMatch(/^t-[0-9a-f]{10}$/);
    const config = await withClient(r.url, async (c) => {
      await c.set(`${prefix}:a`, 'one');
      return [await c.config('GET', 'appendonly'), await c.config('GET', 'maxmemory-policy')];
    });
    expect(config).toEqual([
      ['appendonly', 'yes'],
      ['maxmemory-policy', 'noeviction'],
    ]);

    await r.restart();
    expect(await withClient(r.url, (c) => c.get(`${prefix}:a`))).toBe('one');

    await withClient(r.url, (c) => c.set(`${prefix}:b`, 'two'));
    const before = r.pid();
    await r.kill9();
    expect(r.pid()).toBeUndefined();
    await r.restart();
    expect(r.pid()).not.toBe(before);
    expect(await withClient(r.url, (c) => c.mget(`${prefix}:a`, `${prefix}:b`))).toEqual(['one', 'two']);

    await r.stop();
    await expect(withClient(r.url, (c) => c.ping())).rejects.toThrow();
  });

  it('can run without AOF and with another eviction policy', async () => {
    const other = await startThrowawayRedis({ aof: false, maxmemoryPolicy: 'allkeys-lru' });
    try {
      const config = await withClient(other.url, async (c) => [
        await c.config('GET', 'appendonly'),
        await c.config('GET', 'maxmemory-policy'),
      ]);
      expect(config).toEqual([
        ['appendonly', 'no'],
        ['maxmemory-policy', 'allkeys-lru'],
      ]);
    } finally {
      await other.destroy();
    }
  });
});

describe('freePort', () => {
  it('returns a loopback port that can be bound', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(1023);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
