// The status page in headless Chromium (Debian's chromium driven by playwright-core) on a real Helm
// with real containers and the test Warden: a parked production request with its plan, a service's
// health and release, a run-log entry that appears without a reload, and untrusted text (a reason,
// a log line) containing <script> shown as text with no script run. Screenshots in test-artifacts/.
// The monitor runs in a second Helm process on the same bus (HELM_WORKERS=monitor): a container whose
// HEALTHCHECK starts failing shows as an open incident (its hostile health output as text), moves to
// the closed ones when it passes again, and once that monitor stops the page says it is silent.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type TestHelm, startTestHelm } from '../../helpers/helm.js';
import {
  removeTestContainers,
  startWebService,
  testDocker,
  testLabels,
  WEB_IMAGE_V1,
} from '../../helpers/docker.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

let bed: WardenBed;
let monitor: TestHelm | null = null;
let browser: Browser;
let page: Page;
beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  // The page's process runs no monitor; the monitor is another process on the same bus and folder.
  bed = await startWardenBed({ HELM_HTTP_ADDR: '127.0.0.1:0', HELM_WORKERS: 'gate,executor' });
  monitor = await startTestHelm(
    { HELM_WORKERS: 'monitor', HELM_SCOPE_LABELS: `ghost.scope=${bed.h.scopeLabel['ghost.scope']}` },
    { prefix: bed.h.prefix, memoryDir: bed.h.memoryDir },
  );
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
});
afterAll(async () => {
  await browser?.close();
  await monitor?.close();
  await bed?.close();
  await removeTestContainers();
});

describe('the status page', () => {
  it('shows a parked approval, a service, a new run-log entry live, and untrusted text as text', async () => {
    const { h, bus } = bed;
    const name = uniqueName('page');
    await startWebService({
      labels: {
        'ghost.service': name,
        'ghost.environment': 'production',
        'helm.release': 'rel-42',
        ...h.scopeLabel,
      },
    });
    const job = await bus.send({
      action: 'restart',
      target: name,
      environment: 'production',
      reason: `status page test ${HOSTILE}`,
      params: { timeout_s: 5 },
    });
    const pending = await waitForStatus(bus.actions, job, 'pending_approval');
    const approvalId = String(pending.approval_id);

    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`${h.helm.http!.url}/`);
    await page.evaluate(() => {
      (globalThis as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });

    // The parked request: its action, service, environment, time left, reason and full plan.
    const parked = page.locator(`[data-approval-id="${approvalId}"]`);
    await parked.waitFor({ timeout: 15_000 });
    const parkedText = (await parked.textContent()) ?? '';
    expect(parkedText).toContain(`restart ${name} in production`);
    expect(parkedText).toMatch(/left/);
    expect(parkedText).toContain(`reason: status page test ${HOSTILE}`);
    const plan = JSON.parse((await parked.locator('pre.plan').textContent()) ?? '{}');
    expect(plan).toMatchObject({ action: 'restart', service: name, environment: 'production' });

    // The service: environment, health and release.
    const service = page.locator(`[data-service="${name}"]`);
    await service.waitFor();
    const serviceText = (await service.textContent()) ?? '';
    expect(serviceText).toContain(`${name} (production)`);
    expect(serviceText).toContain('rel-42');
    expect(serviceText).toMatch(/running/);
    await expect.poll(async () => page.locator('#chain').textContent()).toBe('chain verified');
    expect(await page.locator('#unavailable').textContent()).toBe('');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-parked.png'), fullPage: true });

    // A new run-log entry (with a hostile message) appears without a reload.
    await h.helm.runLog.append({ event: 'status_page_test', target: name, message: `log line ${HOSTILE}` });
    const row = page.locator('#runlog tr', { hasText: 'status_page_test' });
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain(`log line ${HOSTILE}`);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-live-entry.png'), fullPage: true });

    // Shown as text, never run: no element came from the data, the flag stays unset, same document.
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    expect(await page.locator('main script, main img').count()).toBe(0);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __sameDocument?: boolean }).__sameDocument),
    ).toBe(true);
    expect(errors).toEqual([]);
    // Nothing loaded from elsewhere.
    const base = h.helm.http!.url;
    expect(requests.filter((u) => !u.startsWith(base))).toEqual([]);
  });
});

interface PageIncident {
  key: string;
  kind: string;
  target: string | null;
  message: string;
  closed_by: string | null;
}
interface PageMonitor {
  reporting: boolean;
  open: PageIncident[];
  closed: PageIncident[];
}

async function monitorOnPage(): Promise<PageMonitor> {
  const res = await fetch(`${bed.h.helm.http!.url}/status.json`);
  return ((await res.json()) as { monitor: PageMonitor }).monitor;
}

async function exec(id: string, cmd: string[]) {
  const e = await testDocker().getContainer(id).exec({ Cmd: cmd });
  await e.start({});
  await waitFor(async () => (await e.inspect()).Running === false, `exec ${cmd.join(' ')}`);
}

describe("the monitor's incidents on the status page", () => {
  it('shows an unhealthy service as an open incident, then closed once it recovers, then the monitor silent', async () => {
    const name = uniqueName('page-inc');
    // The failing check prints hostile text: Docker's health output goes into the incident's message.
    const c = await testDocker().createContainer({
      name,
      Image: WEB_IMAGE_V1,
      Cmd: ['/bin/sh', '-c', 'touch /tmp/ok; exec sleep 1000'],
      Labels: testLabels({ ...bed.h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'production' }),
      Healthcheck: {
        Test: ['CMD-SHELL', `test -f /tmp/ok || { echo '${HOSTILE}'; exit 1; }`],
        Interval: 300e6,
        Timeout: 1e9,
        Retries: 1,
      },
      HostConfig: { NetworkMode: 'host', Init: true },
    });
    await c.start();
    await waitFor(async () => (await c.inspect()).State.Health?.Status === 'healthy', 'healthy at first');
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${bed.h.helm.http!.url}/`);

    await exec(c.id, ['rm', '/tmp/ok']);
    const opened = await waitFor(async () => {
      const m = await monitorOnPage();
      return m.open.find((i) => i.target === name && i.kind === 'unhealthy');
    }, `${name}'s incident in /status.json`);
    expect(opened.message).toContain(HOSTILE);
    const row = page.locator(`#incidents tr[data-incident-key="${opened.key}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain(HOSTILE);
    expect(await page.locator('#monitor-state').textContent()).toMatch(/open \(monitor on /);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-incident-open.png'), fullPage: true });

    await exec(c.id, ['touch', '/tmp/ok']);
    await waitFor(async () => {
      const m = await monitorOnPage();
      return !m.open.some((i) => i.key === opened.key) && m.closed.find((i) => i.key === opened.key);
    }, `${name}'s incident closed`);
    const closedRow = page.locator(`#closed-incidents tr[data-incident-key="${opened.key}"]`);
    await closedRow.waitFor({ timeout: 15_000 });
    expect(await closedRow.textContent()).toMatch(/is back after/);
    expect(await page.locator(`#incidents tr[data-incident-key="${opened.key}"]`).count()).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-incident-closed.png'), fullPage: true });

    // The monitor stops: its board expires with its TTL and the page says so instead of going on
    // showing its last incidents as current.
    await monitor!.close();
    monitor = null;
    await waitFor(async () => !(await monitorOnPage()).reporting, 'the monitor silent on the page');
    await expect
      .poll(async () => page.locator('#monitor-state').textContent(), { timeout: 15_000 })
      .toMatch(/the monitor is silent/);
    expect(
      await page.evaluate(() => (globalThis as unknown as { __pwned?: number }).__pwned),
    ).toBeUndefined();
    expect(await page.locator('main script, main img').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
