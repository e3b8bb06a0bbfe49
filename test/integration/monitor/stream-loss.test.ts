// Events-stream loss without touching the engine other tests use: the monitor talks to Docker through
// a socket proxy that the test breaks, then keeps refusing for a while (the engine looks unreachable).
// Meanwhile one container dies, and another dies and is restarted by its restart policy. After the
// reconnect, the reconcile reports both; the unreachable engine was ONE helm_degraded alert.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';
import { type SocketProxy, startSocketProxy } from './socket-proxy.js';

let proxy: SocketProxy;
let h: MonitorHarness;
beforeAll(async () => {
  proxy = await startSocketProxy();
  h = await startMonitorHarness({
    dockerHost: proxy.dockerHost,
    rules: { reconnectInitialMs: 100, reconnectMaxMs: 400, engineDownAlertAfterMs: 1_000 },
  });
});
afterAll(async () => {
  await h?.close();
  await proxy?.close();
  await removeTestContainers();
});

async function script(
  name: string,
  cmd: string,
  restartPolicy?: { Name: string; MaximumRetryCount: number },
) {
  const c = await testDocker().createContainer({
    name,
    Image: WEB_IMAGE_V1,
    Cmd: ['/bin/sh', '-c', cmd],
    Labels: testLabels({ ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'production' }),
    Healthcheck: { Test: ['NONE'] },
    HostConfig: {
      NetworkMode: 'host',
      Init: true,
      ...(restartPolicy ? { RestartPolicy: restartPolicy } : {}),
    },
  });
  await c.start();
  await waitFor(
    async () => h.monitor.watcher.snapshot().some((s) => s.id === c.id && s.phase === 'running'),
    `the monitor to see ${name}`,
  );
  return c;
}

describe('events-stream loss', () => {
  it('after reconnecting, reports a container that died and one that died and was restarted meanwhile', async () => {
    const dies = await script(uniqueName('mon-lost-dies'), 'exec sleep 1000');
    const bounces = await script(
      uniqueName('mon-lost-bounces'),
      'while [ ! -f /tmp/crash ]; do sleep 0.05; done; rm /tmp/crash; exit 1',
      { Name: 'on-failure', MaximumRetryCount: 3 },
    );
    const steady = await script(uniqueName('mon-lost-steady'), 'exec sleep 1000');
    const names = {
      dies: (await dies.inspect()).Name.slice(1),
      bounces: (await bounces.inspect()).Name.slice(1),
      steady: (await steady.inspect()).Name.slice(1),
    };

    proxy.refuse(true);
    proxy.breakAll();
    await waitFor(async () => !h.monitor.watcher.connected(), 'the monitor to notice the loss');

    await dies.kill();
    const crash = await bounces.exec({ Cmd: ['touch', '/tmp/crash'] });
    await crash.start({});
    await waitFor(async () => (await bounces.inspect()).RestartCount === 1, 'Docker to restart it');

    await h.waitForAlert('helm_degraded', (a) => a.kind === 'helm_degraded');
    await new Promise((r) => setTimeout(r, 500));
    proxy.refuse(false);

    const down = await h.waitForAlert(
      'downtime of the dead one',
      (a) => a.kind === 'downtime' && a.target === names.dies,
    );
    expect(down.alert).toMatchObject({ severity: 'critical', details: { reconciled: true, exit_code: 137 } });
    expect(down.alert.message).toMatch(/after the events stream was lost/);
    const bounced = await h.waitForAlert(
      'downtime of the bounced one',
      (a) => a.kind === 'downtime' && a.target === names.bounces,
    );
    const back = await h.waitForAlert(
      'its recovery',
      (a) => a.kind === 'recovered' && a.target === names.bounces,
    );
    expect(back.alert.dedup_key).toBe(bounced.alert.dedup_key);
    // The outage is Docker's own: from FinishedAt of the run that crashed to StartedAt of the next.
    const info = await bounces.inspect();
    expect(back.alert.details?.['outage_ms']).toBe(
      Date.parse(info.State.StartedAt) - Date.parse(bounced.alert.details?.['since'] as string),
    );
    await h.waitForAlert(
      'the engine is back',
      (a) => a.kind === 'resolved' && a.dedup_key === 'helm_degraded:docker',
    );

    expect(h.received.filter((r) => r.alert.kind === 'helm_degraded')).toHaveLength(1);
    expect(h.alertsFor(names.steady)).toEqual([]);
    expect(h.monitor.watcher.connected()).toBe(true);
    const events = await h.runLogEvents();
    expect(events).toEqual(
      expect.arrayContaining([
        'monitor_stream_lost',
        'monitor_engine_down',
        'monitor_stream_back',
        'monitor_reconciled',
      ]),
    );

    // And the stream works again: a new crash is seen as it happens.
    await steady.kill();
    await h.waitForAlert(
      'a live downtime after the reconnect',
      (a) => a.kind === 'downtime' && a.target === names.steady,
    );
  });
});
