// Downtime on the real engine: a kill of a managed production container reaches sentinel.alerts as a
// critical downtime alert well within a second (measured and printed), its restart as a recovered
// alert with the outage; an owner's docker stop is info; a container outside the scope raises nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { runScriptContainer, uniqueName, waitFor } from '../../helpers/containers.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let h: MonitorHarness;
beforeAll(async () => {
  h = await startMonitorHarness();
});
afterAll(async () => {
  await h?.close();
  await removeTestContainers();
});

async function service(environment: string) {
  const name = uniqueName(`mon-${environment.slice(0, 4)}`);
  const web = await startWebService({
    labels: { ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': environment },
  });
  // The monitor reads a container's facts when it starts: wait until it knows this one.
  await waitFor(
    async () => h.monitor.watcher.snapshot().some((c) => c.id === web.id && c.phase === 'running'),
    `the monitor to see ${name}`,
  );
  return { ...web, service: name };
}

describe('downtime', () => {
  it('kill of a managed production container → critical downtime well under a second; restart → recovered with the outage', async () => {
    const web = await service('production');
    const killedAt = Date.now();
    await testDocker().getContainer(web.id).kill();
    const down = await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === web.service);
    const latency = down.receivedAt - killedAt;
    console.log(`[monitor] kill → downtime alert on sentinel.alerts: ${latency} ms`);
    expect(latency).toBeLessThan(1_000);
    expect(down.alert).toMatchObject({ severity: 'critical', environment: 'production' });
    expect(down.alert.message).toMatch(/killed \(signal 9\) without a docker stop/);

    await new Promise((r) => setTimeout(r, 300));
    const restartedAt = Date.now();
    await testDocker().getContainer(web.id).start();
    const rec = await h.waitForAlert('recovered', (a) => a.kind === 'recovered' && a.target === web.service);
    console.log(
      `[monitor] start → recovered alert: ${rec.receivedAt - restartedAt} ms (healthy + 0.5 s stable)`,
    );
    expect(rec.alert.dedup_key).toBe(down.alert.dedup_key);
    const outage = rec.alert.details?.['outage_ms'] as number;
    // Down from the kill until Docker said healthy again (the image's check runs every second).
    expect(outage).toBeGreaterThanOrEqual(restartedAt - killedAt - 50);
    expect(outage).toBeLessThan(rec.receivedAt - killedAt + 50);
    expect(rec.alert.message).toMatch(/is back after [0-9.]+ s/);
    expect(h.alertsFor(web.service).map((a) => a.kind)).toEqual(['downtime', 'recovered']);
    expect(await h.runLogEvents(web.service)).toEqual(['monitor_down', 'monitor_recovered']);
  });

  it('a crash (exit 3, no kill) of a staging container is a warning downtime', async () => {
    const name = uniqueName('mon-crash');
    const c = await runScriptContainer('sleep 1.5; exit 3', {
      labels: { ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'staging' },
    });
    const down = await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === name);
    expect(down.alert).toMatchObject({ severity: 'warning', details: { cause: 'crash', exit_code: 3 } });
    const state = (await testDocker().getContainer(c.id).inspect()).State;
    expect(state.Running).toBe(false);
    console.log(
      `[monitor] crash (Docker's FinishedAt) → downtime alert on sentinel.alerts: ${down.receivedAt - Date.parse(state.FinishedAt)} ms`,
    );
  });

  it('a container outside the scope dying raises nothing', async () => {
    const name = uniqueName('mon-out');
    const outside = await startWebService({
      labels: { 'ghost.service': name, 'ghost.environment': 'production' },
    });
    const inside = await service('production');
    await testDocker().getContainer(outside.id).kill();
    await testDocker().getContainer(inside.id).kill();
    // The in-scope kill is the marker: once its alert is there, the other one had its chance.
    await h.waitForAlert('the marker', (a) => a.kind === 'downtime' && a.target === inside.service);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.alertsFor(name)).toEqual([]);
    expect(h.monitor.watcher.snapshot().some((c) => c.id === outside.id)).toBe(false);
  });

  it("an owner's docker stop is info stopped_by_owner, not downtime", async () => {
    const web = await service('production');
    await testDocker().getContainer(web.id).stop({ t: 5 });
    const info = await h.waitForAlert('stopped_by_owner', (a) => a.target === web.service);
    expect(info.alert).toMatchObject({ kind: 'stopped_by_owner', severity: 'info' });
    await new Promise((r) => setTimeout(r, 500));
    expect(h.alertsFor(web.service).map((a) => a.kind)).toEqual(['stopped_by_owner']);
    expect(await h.runLogEvents(web.service)).toEqual(['monitor_owner_stop']);
  });
});
