// What each host holds, on the bus (issue 13): each host's monitor publishes its services (environment,
// release, health) under its host id with a TTL it refreshes; a host whose Helm stopped goes silent.
import { describe, expect, it } from 'vitest';
import { makeInventoryReader } from '../../../src/bus/host-inventory.js';
import { runReadCommand } from '../../../src/cli/status-command.js';
import { loadConfig } from '../../../src/config/config.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { startWebService } from '../../helpers/docker.js';
import { startHelmOnB, startWebServiceOnB } from '../../helpers/engine-b.js';
import { busClient, startTestHelm } from '../../helpers/helm.js';
import { closeAfterAll } from './hosts-bed.js';

const closers = closeAfterAll();

describe('the hosts inventory', () => {
  it('lists each host with what its engine holds, and a stopped host as silent', async () => {
    const a = await startTestHelm({ HELM_HOST_ID: 'host-a' });
    closers.push(() => a.close());
    const b = await startHelmOnB(a);
    let bOpen = true;
    closers.push(async () => bOpen && b.close());
    const bus = await busClient(a.prefix);
    closers.push(() => bus.close());
    const shared = uniqueName('both');
    const onlyA = uniqueName('ia');
    const onlyB = uniqueName('ib');
    await startWebService({
      labels: { ...a.scopeLabel, 'ghost.service': onlyA, 'ghost.environment': 'staging' },
    });
    await startWebService({
      labels: { ...a.scopeLabel, 'ghost.service': shared, 'ghost.environment': 'dev' },
    });
    await startWebServiceOnB({
      labels: { ...a.scopeLabel, 'ghost.service': onlyB, 'ghost.environment': 'production' },
    });
    await startWebServiceOnB({
      labels: { ...a.scopeLabel, 'ghost.service': shared, 'ghost.environment': 'dev' },
    });

    const reader = makeInventoryReader(bus.redis, a.prefix);
    const names = (inv: { services: Array<{ service: string }> }) =>
      inv.services.map((s) => s.service).sort();
    const both = await waitFor(
      async () => {
        const r = await reader.read();
        const [ia, ib] = ['host-a', 'host-b'].map((h) => r.live.find((i) => i.host === h));
        return ia && ib && names(ia).length === 2 && names(ib).length === 2
          ? { ia, ib, silent: r.silent }
          : null;
      },
      'both hosts with their services',
      30_000,
    );
    expect(names(both.ia)).toEqual([onlyA, shared].sort());
    expect(names(both.ib)).toEqual([onlyB, shared].sort());
    expect(both.silent).toEqual([]);
    expect(both.ia.services.find((s) => s.service === onlyA)).toMatchObject({
      environment: 'staging',
      containers: 1,
      running: 1,
    });
    expect(both.ib.services.find((s) => s.service === onlyB)).toMatchObject({
      environment: 'production',
      containers: 1,
      running: 1,
    });

    // `helm status` shows every host under the answering host's table.
    const status = () =>
      runReadCommand(loadConfig(a.env), 'status', undefined, {
        json: false,
        environment: 'production',
        timeoutMs: 30_000,
      });
    const shown = await status();
    expect(shown.exitCode).toBe(0);
    // Both hosts run a gate: either may answer the read (for its own engine).
    expect(shown.stdout).toMatch(/answered by host host-[ab]\n/);
    expect(shown.stdout).toMatch(/^host-a +seen \d+s ago +2 /m);
    expect(shown.stdout).toMatch(/^host-b +seen \d+s ago +2 /m);

    // B's Helm stops: its inventory expires (three refreshes), A's stays.
    await b.close();
    bOpen = false;
    const after = await waitFor(
      async () => {
        const r = await reader.read();
        return r.silent.includes('host-b') ? r : null;
      },
      'host-b silent',
      15_000,
    );
    expect(after.silent).toEqual(['host-b']);
    expect(after.live.map((i) => i.host)).toEqual(['host-a']);
    expect((await status()).stdout).toMatch(/^host-b +SILENT/m);
  });
});
