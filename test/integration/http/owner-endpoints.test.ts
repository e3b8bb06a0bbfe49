// The owner's endpoints on a real Helm, on a free loopback port: /healthz live, /readyz asking Redis,
// Docker and the run log (503 naming the one that fails), the bearer token on every route, and a
// Helm that refuses to start on a non-loopback address without a token. A failed Docker call is counted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../../src/helm.js';
import { startTestHelm, type TestHelm } from '../../helpers/helm.js';

const TOKEN = 'test-token-0123456789abcdef';
const ON = { HELM_HTTP_ADDR: '127.0.0.1:0' };

describe('without a token', () => {
  let h: TestHelm;
  beforeAll(async () => {
    h = await startTestHelm(ON);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('listens on the free port it logs and exposes', async () => {
    expect(h.helm.http?.port).toBeGreaterThan(0);
    expect(h.helm.http?.url).toBe(`http://127.0.0.1:${h.helm.http?.port}`);
    expect(h.logLines.some((l) => l.includes(`owner's endpoints on ${h.helm.http?.url}`))).toBe(true);
  });

  it('/healthz answers 200 while the process serves', async () => {
    const res = await fetch(`${h.helm.http!.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ live: true });
  });

  it('/readyz answers 200 when Redis, Docker and the run log answer', async () => {
    const res = await fetch(`${h.helm.http!.url}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      ready: true,
      checks: { redis: { ok: true }, docker: { ok: true }, run_log: { ok: true } },
    });
  });
});

describe('/readyz with a dependency down', () => {
  it('answers 503 and names Docker when the engine does not answer', async () => {
    // A socket no engine listens on (the gate alone: the monitor would need Docker's events).
    const h = await startTestHelm({
      ...ON,
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
      HELM_WORKERS: 'gate',
    });
    try {
      const res = await fetch(`${h.helm.http!.url}/readyz`);
      expect(res.status).toBe(503);
      const body = (await res.json()) as {
        ready: boolean;
        checks: Record<string, { ok: boolean; reason?: string }>;
      };
      expect(body.ready).toBe(false);
      expect(body.checks['redis']).toEqual({ ok: true });
      expect(body.checks['run_log']).toEqual({ ok: true });
      expect(body.checks['docker']).toEqual({
        ok: false,
        reason: expect.stringMatching(/ENOENT|nonexistent/),
      });
      expect((await fetch(`${h.helm.http!.url}/healthz`)).status).toBe(200);
      // The failed pings (start-up's and this one) are Docker API errors on /metrics.
      const metrics = await (await fetch(`${h.helm.http!.url}/metrics`)).text();
      const pings = /^helm_docker_errors_total\{method="ping",kind="unavailable"\} (\d+)$/m.exec(metrics);
      expect(Number(pings?.[1])).toBeGreaterThanOrEqual(2);
    } finally {
      await h.close();
    }
  });
});

describe('with a token', () => {
  let h: TestHelm;
  beforeAll(async () => {
    h = await startTestHelm({ ...ON, HELM_HTTP_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses every request without Authorization: Bearer <token> with 401', async () => {
    for (const path of [
      '/healthz',
      '/readyz',
      '/metrics',
      '/queues',
      '/',
      '/status.json',
      '/status-page.js',
      '/nowhere',
    ]) {
      const res = await fetch(`${h.helm.http!.url}${path}`);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="helm"');
    }
    for (const authorization of [
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      TOKEN,
      `Basic ${TOKEN}`,
      'Bearer ',
    ]) {
      const res = await fetch(`${h.helm.http!.url}/healthz`, { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
    }
  });

  it('serves the request that carries it', async () => {
    const res = await fetch(`${h.helm.http!.url}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
  });

  it('never writes the token to its log', () => {
    expect(h.logLines.join('\n')).not.toContain(TOKEN);
  });
});

describe('binding beyond loopback', () => {
  it('refuses to start without a token, before it listens', async () => {
    for (const addr of ['0.0.0.0:0', '[::]:0']) {
      const err = await startTestHelm({ HELM_HTTP_ADDR: addr }).catch((e: unknown) => e);
      expect(err, addr).toBeInstanceOf(StartupError);
      expect((err as StartupError).problems).toEqual([
        expect.stringMatching(
          /^HELM_HTTP_ADDR: .* is not a loopback address, so HELM_HTTP_TOKEN must be set/,
        ),
      ]);
    }
  });

  it('refuses a port already taken with one line, not a stack', async () => {
    const first = await startTestHelm(ON);
    try {
      const err = await startTestHelm({ HELM_HTTP_ADDR: `127.0.0.1:${first.helm.http!.port}` }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StartupError);
      expect((err as StartupError).problems).toEqual([
        expect.stringMatching(/cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/),
      ]);
    } finally {
      await first.close();
    }
  });
});
