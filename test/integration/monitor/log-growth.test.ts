// log_growth on the real engine: a managed container whose json-file log has no max-size and has
// grown past the (small) threshold is reported once; one with a max-size and one with a small log
// are not. The size is read from LogPath on the disk holding Docker's data root.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { removeTestContainers, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let h: MonitorHarness;
beforeAll(async () => {
  h = await startMonitorHarness({ extra: { logGrowth: { thresholdBytes: 100_000, checkMs: 60_000 } } });
});
afterAll(async () => {
  await h?.close();
  await removeTestContainers();
});

async function start(name: string, bytes: number, logOpts: Record<string, string> | null) {
  const c = await testDocker().createContainer({
    name,
    Image: WEB_IMAGE_V1,
    Cmd: [
      '/bin/sh',
      '-c',
      `head -c ${bytes} /dev/zero | tr '\\0' x | fold -w 100; echo done; exec sleep 1000`,
    ],
    Labels: testLabels({ ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'staging' }),
    Healthcheck: { Test: ['NONE'] },
    HostConfig: { Init: true, LogConfig: { Type: 'json-file', Config: logOpts ?? {} } },
  });
  await c.start();
  await waitFor(async () => {
    const logs = await c.logs({ stdout: true, tail: 1 });
    return String(logs).includes('done');
  }, `${name} wrote its log`);
  return c;
}

describe('log_growth', () => {
  it('an unlimited json-file log above the threshold is reported once; limited and small ones are not', async () => {
    const big = uniqueName('mon-log-big');
    const limited = uniqueName('mon-log-lim');
    const small = uniqueName('mon-log-small');
    const bigC = await start(big, 300_000, null);
    await start(limited, 300_000, { 'max-size': '20k', 'max-file': '1' });
    await start(small, 1_000, null);

    const watch = h.monitor.logGrowth;
    if (!watch) throw new Error('log growth not started');
    // Two passes: the first may be one that started before the containers wrote their logs.
    const sent = [...(await watch.checkNow()), ...(await watch.checkNow())];
    const ours = sent.filter((a) => [big, limited, small].includes(a.target ?? ''));
    expect(ours.map((a) => a.target)).toEqual([big]);
    const alert = await h.waitForAlert('log_growth', (a) => a.kind === 'log_growth' && a.target === big);
    expect(alert.alert).toMatchObject({
      severity: 'warning',
      dedup_key: `log_growth:${big}:${bigC.id.slice(0, 12)}`,
    });
    expect(alert.alert.details?.['size_bytes']).toBeGreaterThan(300_000);

    // Once per container: later passes say nothing more.
    await watch.checkNow();
    await watch.checkNow();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.alertsFor(big).map((a) => a.kind)).toEqual(['log_growth']);
    expect(h.alertsFor(limited)).toEqual([]);
    expect(h.alertsFor(small)).toEqual([]);
    expect(await h.runLogEvents(big)).toEqual(['log_growth']);
  });
});
