// Health pings on the real engine and Redis: a managed service whose check is a `ghost.healthcheck`
// http label (a server of this test on a loopback port) is pinged through BullMQ's job scheduler on
// `helm.pings`. Stopping the server → one unhealthy alert after the retries; starting it again →
// recovered with the same key. A service with a Docker HEALTHCHECK and one with no check are not
// pinged, and a healthy service raises nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PINGS_QUEUE, pingsPrefix } from '../../../src/monitor/pings.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { removeTestContainers, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { TEST_REDIS_URL } from '../../helpers/helm.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let h: MonitorHarness;
let server: http.Server;
let port = 0;

function listen(p: number): Promise<number> {
  server = http.createServer((_req, res) => {
    res.writeHead(200).end('ok');
  });
  return new Promise((resolve) =>
    server.listen(p, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

/** A loopback port that was free a moment ago (nothing listens on it now). */
async function listenOnce(): Promise<number> {
  const s = http.createServer();
  const p = await new Promise<number>((resolve) =>
    s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)),
  );
  await new Promise((r) => s.close(r));
  return p;
}

function stopServer(): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

beforeAll(async () => {
  port = await listen(0);
  h = await startMonitorHarness({
    extra: ({ prefix, redisUrl }) => ({
      bus: { redisUrl, prefix },
      pings: { intervalMs: 500, failuresToCount: 2, syncMs: 200 },
    }),
  });
});
afterAll(async () => {
  await h?.close();
  await stopServer().catch(() => undefined);
  await removeTestContainers();
});

async function start(name: string, labels: Record<string, string>, healthcheck = false) {
  const c = await testDocker().createContainer({
    name,
    Image: WEB_IMAGE_V1,
    Cmd: ['/bin/sh', '-c', 'touch /tmp/ok; exec sleep 1000'],
    Labels: testLabels({
      ...h.scopeLabel,
      'ghost.service': name,
      'ghost.environment': 'production',
      ...labels,
    }),
    // The test image has a HEALTHCHECK of its own: NONE turns it off.
    Healthcheck: healthcheck
      ? { Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 500e6, Timeout: 1e9, Retries: 1 }
      : { Test: ['NONE'] },
    HostConfig: { Init: true },
  });
  await c.start();
  return c;
}

describe('health pings', () => {
  it('a ghost.healthcheck http check that fails twice → one unhealthy; back → recovered; nothing else', async () => {
    const pinged = uniqueName('mon-ping');
    const quiet = uniqueName('mon-ping-ok');
    const docker = uniqueName('mon-ping-docker');
    const plain = uniqueName('mon-ping-plain');
    await start(pinged, {
      'ghost.healthcheck': `http://127.0.0.1:${port}/health`,
      'ghost.ping_interval_s': '1',
    });
    await start(quiet, { 'ghost.healthcheck': `tcp://127.0.0.1:${port}` });
    await start(docker, { 'ghost.healthcheck': `http://127.0.0.1:${port}/` }, true);
    await start(plain, {});

    const pings = h.monitor.pings;
    if (!pings) throw new Error('pings not started');
    await waitFor(async () => {
      await pings.sync();
      return pings.scheduled().size === 2;
    }, 'two services scheduled');
    expect([...pings.scheduled()].sort()).toEqual(
      [
        [`ping:test-host:${pinged}`, 1000],
        [`ping:test-host:${quiet}`, 500],
      ].sort(),
    );
    // Both pinged and healthy (the baseline): no alert.
    await waitFor(async () => {
      const s = [...pings.states().values()];
      return s.length === 2 && s.every((x) => x.verdict === 'healthy');
    }, 'both healthy');

    const stoppedAt = Date.now();
    await stopServer();
    const bad = await h.waitForAlert(
      'unhealthy',
      (a) => a.kind === 'unhealthy' && a.target === pinged,
      10_000,
    );
    console.log(`[monitor] http check down → unhealthy after the retries: ${bad.receivedAt - stoppedAt} ms`);
    // Two failures at a 1 s interval: not before the second ping.
    expect(bad.receivedAt - stoppedAt).toBeGreaterThan(900);
    expect(bad.alert).toMatchObject({ severity: 'critical', environment: 'production' });
    expect(bad.alert.message).toContain(`GET http://127.0.0.1:${port}/health`);
    expect(bad.alert.dedup_key).toMatch(new RegExp(`^unhealthy:${pinged}:[0-9a-f]{12}:\\d+$`));
    await h.waitForAlert('unhealthy tcp', (a) => a.kind === 'unhealthy' && a.target === quiet, 10_000);

    // Still failing: no second alert.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(h.alertsFor(pinged).map((a) => a.kind)).toEqual(['unhealthy']);

    await listen(port);
    const good = await h.waitForAlert(
      'recovered',
      (a) => a.kind === 'recovered' && a.target === pinged,
      10_000,
    );
    expect(good.alert.dedup_key).toBe(bad.alert.dedup_key);
    expect(good.alert.details).toMatchObject({ opened_as: 'unhealthy' });
    await h.waitForAlert('recovered tcp', (a) => a.kind === 'recovered' && a.target === quiet, 10_000);
    await new Promise((r) => setTimeout(r, 1_200));

    expect(h.alertsFor(pinged).map((a) => a.kind)).toEqual(['unhealthy', 'recovered']);
    expect(h.alertsFor(docker)).toEqual([]);
    expect(h.alertsFor(plain)).toEqual([]);
    expect(await h.runLogEvents(pinged)).toEqual(['monitor_unhealthy', 'monitor_recovered']);
    expect(await h.runLogEvents(docker)).toEqual([]);
  });

  it('one incident whichever source: ping-unhealthy that then dies escalates on its key; a crash is downtime only', async () => {
    const sick = uniqueName('mon-ping-sick');
    const crash = uniqueName('mon-ping-crash');
    const pings = h.monitor.pings;
    if (!pings) throw new Error('pings not started');
    // The sick one's check points at a port nobody listens on; the crashing one's at the live server.
    const dead = await listenOnce();
    const sickC = await start(sick, {
      'ghost.healthcheck': `http://127.0.0.1:${dead}/`,
      'ghost.ping_interval_s': '1',
    });
    const crashC = await start(crash, {
      'ghost.healthcheck': `http://127.0.0.1:${port}/`,
      'ghost.ping_interval_s': '1',
    });
    const bad = await h.waitForAlert('unhealthy', (a) => a.kind === 'unhealthy' && a.target === sick, 10_000);
    await waitFor(async () => pings.states().get(crashC.id)?.verdict === 'healthy', 'crash target pinged');

    await sickC.kill();
    const down = await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === sick);
    expect(down.alert.dedup_key).toBe(bad.alert.dedup_key);
    expect(down.alert.message).toContain('it was unhealthy first');

    await crashC.kill();
    await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === crash);
    // Pings of a dead container say nothing: it is the events' incident.
    await new Promise((r) => setTimeout(r, 2_500));
    expect(h.alertsFor(sick).map((a) => a.kind)).toEqual(['unhealthy', 'downtime']);
    expect(h.alertsFor(crash).map((a) => a.kind)).toEqual(['downtime']);
  });

  it('pings are jobs of a scheduler on helm.pings, removed when done (no results kept)', async () => {
    const { Queue } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const q = new Queue(PINGS_QUEUE, { connection: redis, prefix: pingsPrefix(h.prefix, 'test-host') });
    try {
      const schedulers = (await q.getJobSchedulers(0, -1)).map((s) => s.key);
      expect(schedulers).toEqual(
        expect.arrayContaining([expect.stringMatching(/^ping:test-host:mon-ping-/)]),
      );
      const counts = await q.getJobCounts('completed', 'failed');
      expect(counts).toEqual({ completed: 0, failed: 0 });
    } finally {
      await q.close();
      redis.disconnect();
    }
  });
});
