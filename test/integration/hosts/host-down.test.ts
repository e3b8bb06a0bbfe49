// A host that goes dark (issue 13, decision 95): host B's Helm, a real process on the second engine,
// is killed with -9; host A's monitor sends one critical host_down (B held production) within the bound,
// A keeps serving; B's Helm returns and A sends recovered with the same dedup_key.
import { copyFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeInventoryReader } from '../../../src/bus/host-inventory.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { startWebService } from '../../helpers/docker.js';
import { engineBDockerHost, startWebServiceOnB } from '../../helpers/engine-b.js';
import { busClient, startTestHelm, TEST_REDIS_URL } from '../../helpers/helm.js';
import { type HelmProcess, spawnHelm } from '../../helpers/helm-process.js';
import { closeAfterAll } from './hosts-bed.js';

const closers = closeAfterAll();

const INTERVAL_MS = 500;

describe('a host that goes dark', () => {
  it('is host_down once within the bound, A serves meanwhile, and recovered when it returns', async () => {
    const a = await startTestHelm({
      HELM_HOST_ID: 'host-a',
      HELM_HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS),
    });
    closers.push(() => a.close());
    const bus = await busClient(a.prefix);
    closers.push(() => bus.close());
    const memoryB = await mkdtemp(path.join(os.tmpdir(), 'helm-host-b-'));
    await copyFile(path.join(a.memoryDir, 'helm.key'), path.join(memoryB, 'helm.key'));
    const startB = (): HelmProcess => {
      const p = spawnHelm({
        REDIS_URL: TEST_REDIS_URL,
        HELM_QUEUE_PREFIX: a.prefix,
        HELM_MEMORY_DIR: memoryB,
        HELM_HOST_ID: 'host-b',
        DOCKER_HOST: engineBDockerHost(),
        HELM_SCOPE_LABELS: a.env['HELM_SCOPE_LABELS']!,
        HELM_INSTANCE: `host-b-${Date.now()}`,
        HELM_HEARTBEAT_INTERVAL_MS: String(INTERVAL_MS),
        LOG_LEVEL: 'warn',
      });
      closers.push(() => p.kill9());
      return p;
    };
    await startWebServiceOnB({
      labels: { ...a.scopeLabel, 'ghost.service': uniqueName('pb'), 'ghost.environment': 'production' },
    });
    const onA = uniqueName('da');
    await startWebService({ labels: { ...a.scopeLabel, 'ghost.service': onA, 'ghost.environment': 'dev' } });
    const reader = makeInventoryReader(bus.redis, a.prefix);
    const bLive = async () =>
      (await reader.read()).live.some((i) => i.host === 'host-b' && i.services.length === 1);

    const b = startB();
    await waitFor(bLive, "host B's inventory", 60_000);
    const hostDowns = async () => (await bus.alertsSent()).filter((al) => al.kind === 'host_down');
    expect(await hostDowns()).toEqual([]);

    await b.kill9();
    const killedAt = Date.now();
    const [down] = await waitFor(
      async () => {
        const d = await hostDowns();
        return d.length > 0 ? d : null;
      },
      'host_down for host-b',
      20_000,
    );
    const detectMs = Date.now() - killedAt;
    // The bound: three refreshes of the inventory's TTL plus one check, with room for a loaded machine.
    expect(detectMs).toBeLessThan(INTERVAL_MS * 3 + INTERVAL_MS + 8_000);
    expect(down).toMatchObject({
      severity: 'critical',
      target: 'host-b',
      environment: 'production',
      host: 'host-a',
      dedup_key: expect.stringMatching(/^host_down:host-b:\d+$/),
    });

    // A serves throughout.
    const served = await bus.request({
      action: 'health_check',
      target: onA,
      environment: 'dev',
      reason: 'b is down',
    });
    expect(served).toMatchObject({ status: 'executed', host: 'host-a' });
    // Still one incident after several more checks.
    await new Promise((r) => setTimeout(r, INTERVAL_MS * 4));
    expect(await hostDowns()).toHaveLength(1);

    startB();
    const recovered = await waitFor(
      async () => {
        const r = (await bus.alertsSent()).filter(
          (al) => al.kind === 'recovered' && al.dedup_key === down!.dedup_key,
        );
        return r.length > 0 ? r : null;
      },
      'recovered for host-b',
      60_000,
    );
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ target: 'host-b', severity: 'info' });
    console.log(`host_down for host-b ${detectMs} ms after kill -9 (inventory TTL ${INTERVAL_MS * 3} ms)`);
  });
});
