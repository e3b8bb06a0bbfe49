// Bull Board on a real Helm's HTTP server: the page and its static files answer, its API lists the
// four bus queues and helm.exec as read-only, and every change (retry, clean, promote, add, pause) is
// refused while the job it aims at stays where it was.
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busClient, startTestHelm, type BusClient, type TestHelm } from '../../helpers/helm.js';

let h: TestHelm;
let bus: BusClient;
let wardenRequests: Queue;
beforeAll(async () => {
  h = await startTestHelm({ HELM_HTTP_ADDR: '127.0.0.1:0' });
  bus = await busClient(h.prefix);
  wardenRequests = new Queue('warden.requests', { connection: bus.redis, prefix: h.prefix });
});
afterAll(async () => {
  await wardenRequests?.close();
  await bus?.close();
  await h?.close();
});

const url = (path: string) => `${h.helm.http!.url}${path}`;

describe('Bull Board under /queues', () => {
  it('serves its page and the files the page loads', async () => {
    const page = await fetch(url('/queues'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('<base href="/queues/" />');
    const assets = [...html.matchAll(/(?:src|href)="(static\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThan(0);
    for (const asset of assets) expect((await fetch(url(`/queues/${asset}`))).status, asset).toBe(200);
  });

  it("lists the four bus queues and this host's exec queue, each read-only", async () => {
    const res = await fetch(url('/queues/api/queues'));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { queues: Array<{ name: string; readOnlyMode: boolean }> };
    expect(body.queues.map((q) => q.name).sort()).toEqual(
      [
        'helm.actions',
        'helm.approvals',
        `helm.exec.${h.helm.config.host}`,
        'sentinel.alerts',
        'warden.requests',
      ].sort(),
    );
    expect(body.queues.every((q) => q.readOnlyMode)).toBe(true);
  });

  it('refuses retry, clean, promote, add and pause; the job stays', async () => {
    const job = await wardenRequests.add('approval', { probe: true }, { delay: 600_000 });
    const changes: Array<[string, string]> = [
      ['PUT', `/queues/api/queues/warden.requests/retry/failed`],
      ['PUT', `/queues/api/queues/warden.requests/clean/delayed`],
      ['PUT', `/queues/api/queues/warden.requests/promote`],
      ['PUT', `/queues/api/queues/warden.requests/${job.id}/clean`],
      ['PUT', `/queues/api/queues/warden.requests/${job.id}/promote`],
      ['PUT', `/queues/api/queues/warden.requests/empty`],
      ['PUT', `/queues/api/queues/pause`],
      ['POST', `/queues/api/queues/warden.requests/add`],
      ['DELETE', `/queues/api/queues/warden.requests/${job.id}`],
    ];
    for (const [method, path] of changes) {
      const res = await fetch(url(path), {
        method,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'x', data: {} }),
      });
      expect(res.status, `${method} ${path}`).toBe(405);
    }
    expect(await (await wardenRequests.getJob(job.id!))?.getState()).toBe('delayed');
    expect(await wardenRequests.isPaused()).toBe(false);

    // The same job can be read.
    const read = await fetch(url(`/queues/api/queues/warden.requests/${job.id}`));
    expect(read.status).toBe(200);
  });
});
