// A Docker HEALTHCHECK that starts failing on the real engine: the health command checks a file the
// test deletes through exec (→ unhealthy), then puts back (→ healthy → recovered).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let h: MonitorHarness;
beforeAll(async () => {
  h = await startMonitorHarness();
});
afterAll(async () => {
  await h?.close();
  await removeTestContainers();
});

async function exec(id: string, cmd: string[]) {
  const e = await testDocker().getContainer(id).exec({ Cmd: cmd });
  await e.start({});
  await waitFor(async () => (await e.inspect()).Running === false, `exec ${cmd.join(' ')}`);
}

describe('unhealthy', () => {
  it('a HEALTHCHECK that starts failing → unhealthy alert; passing again → recovered', async () => {
    const name = uniqueName('mon-health');
    const c = await testDocker().createContainer({
      name,
      Image: WEB_IMAGE_V1,
      Cmd: ['/bin/sh', '-c', 'touch /tmp/ok; exec sleep 1000'],
      Labels: testLabels({ ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'production' }),
      Healthcheck: { Test: ['CMD-SHELL', 'test -f /tmp/ok'], Interval: 300e6, Timeout: 1e9, Retries: 1 },
      HostConfig: { NetworkMode: 'host', Init: true },
    });
    await c.start();
    await waitFor(async () => (await c.inspect()).State.Health?.Status === 'healthy', 'healthy at first');

    const brokenAt = Date.now();
    await exec(c.id, ['rm', '/tmp/ok']);
    const bad = await h.waitForAlert('unhealthy', (a) => a.kind === 'unhealthy' && a.target === name);
    console.log(
      `[monitor] health file removed → unhealthy alert: ${bad.receivedAt - brokenAt} ms (check interval 300 ms)`,
    );
    expect(bad.alert).toMatchObject({ severity: 'critical', environment: 'production' });

    await exec(c.id, ['touch', '/tmp/ok']);
    const good = await h.waitForAlert('recovered', (a) => a.kind === 'recovered' && a.target === name);
    expect(good.alert.dedup_key).toBe(bad.alert.dedup_key);
    expect(good.alert.details).toMatchObject({ opened_as: 'unhealthy' });
    expect(h.alertsFor(name).map((a) => a.kind)).toEqual(['unhealthy', 'recovered']);
    expect(await h.runLogEvents(name)).toEqual(['monitor_unhealthy', 'monitor_recovered']);
  });
});
