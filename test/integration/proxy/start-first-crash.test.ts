// kill -9 of Helm in the middle of a start-first deploy (issue 11, crash safety): Helm runs as a real
// child process (test/helpers/crash-rig.ts) and SIGKILLs itself right after the write-ahead intent
// recorded `settle_upstream`, i.e. after the switch was made (the route on [new, old]) and before the
// proxy was settled on the new instance. A new Helm recovers it: the route is pointed back at the old
// instance before the new one is removed, the old one never stops serving, and a 200 req/s loop
// through Caddy sees every request answered from the deploy to the end of recovery.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCaddyAdmin } from '../../../src/proxy/caddy-admin.js';
import { type ProxyPort, upstream } from '../../../src/proxy/proxy-port.js';
import { startTestCaddy, type TestCaddy } from '../../helpers/caddy.js';
import { waitFor } from '../../helpers/containers.js';
import {
  type CrashRig,
  finalResultOf,
  intentFiles,
  SHORT_CRASH_INTERVALS,
  startCrashRig,
} from '../../helpers/crash-rig.js';
import { removeTestContainers, testDocker, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import { requestLoopUntil } from '../../helpers/http-upstream.js';
import { makeTestWarden } from '../../helpers/warden.js';
import { removeReleaseTags } from '../executor/exec-harness.js';
import { proxyEnv, startRoutedWeb } from './routed-web.js';

const warden = makeTestWarden();
let caddy: TestCaddy;
let proxy: ProxyPort;
let rig: CrashRig | undefined;
const services: string[] = [];

beforeAll(async () => {
  caddy = await startTestCaddy();
  proxy = makeCaddyAdmin({ adminUrl: caddy.adminUrl });
});

afterAll(async () => {
  await rig?.close().catch(() => undefined);
  await caddy?.destroy();
  await removeTestContainers();
  await removeReleaseTags(services);
});

describe('kill -9 of Helm during a start-first deploy', () => {
  it('after the switch, before the settle: recovery points the route back first; every request answered', async () => {
    const r = await startCrashRig({
      wardenPublicPem: warden.publicPem,
      env: { ...SHORT_CRASH_INTERVALS, ...(await proxyEnv(caddy.adminUrl)) },
    });
    rig = r;
    const { service, web, url } = await startRoutedWeb(proxy, 'sf-crash', {
      ...r.scopeLabel,
      'ghost.environment': 'dev',
    });
    services.push(service);

    const helm = await r.startHelm({ HELM_TEST_CRASH_AT_STEP: 'settle_upstream' });
    const v2 = (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id;
    const job = await r.bus.send({
      action: 'deploy',
      target: service,
      environment: 'dev',
      reason: 'crash during start-first',
      params: { image: WEB_IMAGE_V2, image_id: v2 },
    });
    const recovered = (async () => {
      await waitFor(
        async () => helm.child.signalCode === 'SIGKILL' || helm.child.exitCode !== null,
        'Helm to kill itself at settle_upstream',
        45_000,
      );
      const intents = await intentFiles(r.memoryDir);
      // At the kill: the switch was made, the route on the new instance with the old one behind it.
      const atKill = (await proxy.readRoute(service))?.upstreams ?? [];
      await r.startHelm();
      return { intents, atKill, result: await finalResultOf(r, String(job.id), 90_000) };
    })();
    const load = await requestLoopUntil(url, recovered, { perSecond: 200, maxMs: 150_000 });
    const { intents, atKill, result } = await recovered;

    expect(helm.child.signalCode).toBe('SIGKILL');
    expect(intents.map((i) => i.step)).toEqual(['settle_upstream']);
    expect(atKill).toHaveLength(2);
    expect(atKill[1]).toEqual(upstream(web.port));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'rolled_back' } });
    expect(load.failures).toEqual([]);
    expect((await proxy.readRoute(service))?.upstreams).toEqual([upstream(web.port)]);
    const old = await testDocker().getContainer(web.name).inspect();
    expect(old.Id).toBe(web.id);
    expect(old.State.Running).toBe(true);
    const instances = (await testDocker().listContainers({ all: true })).filter((c) =>
      c.Names.some((n) => n.startsWith(`/${web.name}-i`)),
    );
    expect(instances).toEqual([]);
    const total = load.failures.length + [...load.bodies.values()].reduce((a, b) => a + b, 0);
    console.info(`kill -9 after the start-first switch, recovered: 0 failed of ${total}`);
  });
});
