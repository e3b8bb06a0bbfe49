// Dev auto-restart on the real engine: a crashed dev container is restarted by Helm (with backoff);
// a crash loop stops the restarts and raises crash_loop; a dev container stopped on purpose stays
// stopped; a production crash is alerted only; a container with its own restart policy is left to Docker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  removeTestContainers,
  startWebService,
  testDocker,
  testLabels,
  WEB_IMAGE_V1,
} from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let h: MonitorHarness;
beforeAll(async () => {
  h = await startMonitorHarness({
    rules: { baseDelayMs: 100, maxDelayMs: 400, maxRestarts: 3, recoveryStableMs: 500 },
  });
});
afterAll(async () => {
  await h?.close();
  await removeTestContainers();
});

const labels = (name: string, environment: string) => ({
  ...h.scopeLabel,
  'ghost.service': name,
  'ghost.environment': environment,
});
const inspect = (id: string) => testDocker().getContainer(id).inspect();

/** `sh -c script` in the busybox image, without the image's HTTP HEALTHCHECK (nothing serves HTTP here). */
async function script(
  cmd: string,
  name: string,
  environment: string,
  restartPolicy?: { Name: string; MaximumRetryCount: number },
) {
  const c = await testDocker().createContainer({
    name: uniqueName(name),
    Image: WEB_IMAGE_V1,
    Cmd: ['/bin/sh', '-c', cmd],
    Labels: testLabels(labels(name, environment)),
    Healthcheck: { Test: ['NONE'] },
    HostConfig: {
      NetworkMode: 'host',
      Init: true,
      ...(restartPolicy ? { RestartPolicy: restartPolicy } : {}),
    },
  });
  await c.start();
  return c;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dev auto-restart', () => {
  it('a crashed dev container is restarted by Helm, then recovered', async () => {
    const name = uniqueName('mon-dev');
    // Crashes on its first run only (the marker survives a restart).
    const c = await script(
      '[ -f /tmp/ran ] && exec sleep 1000; touch /tmp/ran; sleep 0.5; exit 1',
      name,
      'dev',
    );
    const firstStart = (await inspect(c.id)).State.StartedAt;
    const down = await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === name);
    expect(down.alert).toMatchObject({ severity: 'info', environment: 'dev' });
    expect(down.alert.message).toMatch(/Helm restarts it in 0\.1 s/);
    const rec = await h.waitForAlert('recovered', (a) => a.kind === 'recovered' && a.target === name);
    expect(rec.alert.dedup_key).toBe(down.alert.dedup_key);
    const now = await inspect(c.id);
    expect(now.State.Running).toBe(true);
    expect(now.State.StartedAt).not.toBe(firstStart);
    expect(await h.runLogEvents(name)).toEqual(['monitor_down', 'auto_restart', 'monitor_recovered']);
  });

  it('a crash loop stops the restarts and raises crash_loop', async () => {
    const name = uniqueName('mon-loop');
    const c = await script('sleep 0.3; exit 1', name, 'dev');
    const loop = await h.waitForAlert(
      'crash_loop',
      (a) => a.kind === 'crash_loop' && a.target === name,
      20_000,
    );
    expect(loop.alert).toMatchObject({ severity: 'warning', details: { crashes: 4 } });
    expect(loop.alert.message).toMatch(/Helm stopped restarting it/);
    const startedAt = (await inspect(c.id)).State.StartedAt;
    await sleep(1_500);
    const after = await inspect(c.id);
    expect(after.State.Running).toBe(false);
    expect(after.State.StartedAt).toBe(startedAt);
    const events = await h.runLogEvents(name);
    expect(events.filter((e) => e === 'auto_restart')).toHaveLength(3);
    expect(events.at(-1)).toBe('crash_loop');
    // One incident: one downtime alert, then the crash loop on the same key.
    expect(h.alertsFor(name).map((a) => a.kind)).toEqual(['downtime', 'crash_loop']);
    expect(h.alertsFor(name)[1]?.dedup_key).toBe(h.alertsFor(name)[0]?.dedup_key);
  });

  it('a dev container stopped on purpose stays stopped', async () => {
    const name = uniqueName('mon-devstop');
    const web = await startWebService({ labels: labels(name, 'dev') });
    await waitFor(
      async () => h.monitor.watcher.snapshot().some((s) => s.id === web.id && s.phase === 'running'),
      'the monitor to see it',
    );
    await testDocker().getContainer(web.id).stop({ t: 5 });
    await h.waitForAlert('stopped_by_owner', (a) => a.kind === 'stopped_by_owner' && a.target === name);
    await sleep(1_500);
    expect((await inspect(web.id)).State.Running).toBe(false);
    expect(await h.runLogEvents(name)).toEqual(['monitor_owner_stop']);
  });

  it('a production crash is alerted, never restarted', async () => {
    const name = uniqueName('mon-prodcrash');
    const c = await script('sleep 0.5; exit 2', name, 'production');
    const down = await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === name);
    expect(down.alert).toMatchObject({ severity: 'critical' });
    expect(down.alert.message).toMatch(/Helm does not restart production containers on its own/);
    const startedAt = (await inspect(c.id)).State.StartedAt;
    await sleep(1_000);
    expect((await inspect(c.id)).State).toMatchObject({ Running: false, StartedAt: startedAt });
    expect(await h.runLogEvents(name)).toEqual(['monitor_down']);
  });

  it('a dev container with its own restart policy is left to Docker (reported, not fought)', async () => {
    const name = uniqueName('mon-policy');
    const c = await script(
      '[ -f /tmp/ran ] && exec sleep 1000; touch /tmp/ran; sleep 0.5; exit 1',
      name,
      'dev',
      {
        Name: 'on-failure',
        MaximumRetryCount: 2,
      },
    );
    const down = await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === name);
    expect(down.alert.message).toMatch(/Docker's restart policy \(on-failure\) restarts it/);
    await h.waitForAlert('recovered', (a) => a.kind === 'recovered' && a.target === name);
    expect((await c.inspect()).RestartCount).toBe(1);
    expect(await h.runLogEvents(name)).toEqual(['monitor_down', 'monitor_recovered']);
  });
});
