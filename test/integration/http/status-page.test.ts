// The status page in headless Chromium (Debian's chromium driven by playwright-core) on a real Helm
// with real containers and the test Warden: a parked production request with its plan, a service's
// health and release, a run-log entry that appears without a reload, and untrusted text (a reason,
// a log line) containing <script> shown as text with no script run. Screenshots in test-artifacts/.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName } from '../../helpers/containers.js';
import { removeTestContainers, startWebService } from '../../helpers/docker.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';

const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const HOSTILE = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">';

let bed: WardenBed;
let browser: Browser;
let page: Page;
beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  bed = await startWardenBed({ HELM_HTTP_ADDR: '127.0.0.1:0' });
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
