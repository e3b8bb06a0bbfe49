// Disk above its threshold: Helm asks its own gate to prune what it made and no longer needs (at once
// on a dev host, parked for Warden where production runs) and tells the owner what else takes space.
import { afterAll, describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/bus/alert-sender.js';
import { loadConfig } from '../../../src/config/config.js';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import { observeHost } from '../../../src/observe/observe-target.js';
import { withDiskCleanup } from '../../../src/monitor/disk-cleanup.js';
import { removeTestContainers, startWebService } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';

const helms: TestHelm[] = [];
const buses: BusClient[] = [];
afterAll(async () => {
  for (const b of buses) await b.close();
  for (const h of helms) await h.close();
  await removeTestContainers();
});

async function bed(withDevContainer: boolean) {
  const h = await startTestHelm();
  helms.push(h);
  const bus = await busClient(h.prefix);
  buses.push(bus);
  if (withDevContainer)
    await startWebService({
      labels: { ...h.scopeLabel, 'ghost.service': uniqueName('dc'), 'ghost.environment': 'dev' },
    });
  const docker = makeDockerReads(undefined);
  const sent: AlertInput[] = [];
  const alerts = withDiskCleanup(
    {
      send: async (a) => {
        sent.push(a);
        return null;
      },
    },
    {
      docker,
      submit: async (request) => {
        await bus.actions.add('prune', request);
      },
      hostEnvironment: async () => {
        const config = loadConfig(h.env);
        const host = await observeHost(docker, config.host, config.host, config.scope, []);
        return host.ok ? host.environment : 'production';
      },
      host: loadConfig(h.env).host,
      logger: h.helm.logger,
    },
  );
  const diskHigh: AlertInput = {
    severity: 'warning',
    kind: 'disk_high',
    message: 'disk / on test is at 93 %',
    details: { value: 93 },
    dedup_key: `disk_high:test:/:${Date.now()}`,
  };
  return { h, bus, alerts, sent, diskHigh, host: loadConfig(h.env).host };
}

async function pruneJobs(bus: BusClient) {
  return (
    await bus.actions.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'], 0, -1, true)
  ).filter((j) => j.name === 'prune');
}

describe('disk cleanup', () => {
  it('on a dev host prunes at once, once per incident, and says what else takes the space', async () => {
    const { bus, alerts, sent, diskHigh, host } = await bed(true);
    await alerts.send(diskHigh);
    await alerts.send({ ...diskHigh, message: `still: ${diskHigh.message}` });
    const jobs = await waitFor(async () => {
      const js = await pruneJobs(bus);
      return js.length === 2 &&
        (await Promise.all(js.map((j) => j.getState()))).every((s) => s === 'completed')
        ? js
        : null;
    }, 'two prune requests executed');
    expect(jobs.map((j) => (j.data as { params: { what: string } }).params.what).sort()).toEqual([
      'containers',
      'images',
    ]);
    // The prune names this host (HELM_HOST_ID), never "local": on a shared bus only this host's Helm takes it.
    for (const j of jobs) {
      expect(j.data).toMatchObject({ target: host });
      expect(j.returnvalue).toMatchObject({ status: 'executed', action: 'prune', environment: 'dev' });
    }
    expect(sent[0]!.message).toMatch(
      /Helm asked to prune what it made and no longer needs \(runs at once\); Docker also holds images/,
    );
    expect(sent[0]!.details).toMatchObject({ cleanup: { environment: 'dev' } });
    expect(sent[1]!.message).toMatch(/^still: /);
  });

  it('where production runs parks the prune for Warden', async () => {
    const { bus, alerts, sent, diskHigh } = await bed(false);
    await alerts.send(diskHigh);
    await waitFor(async () => {
      const js = await pruneJobs(bus);
      if (js.length !== 2) return false;
      const progress = await Promise.all(
        js.map(
          async (j) =>
            ((await bus.actions.getJob(j.id!))?.progress as { status?: string } | undefined)?.status,
        ),
      );
      return progress.every((s) => s === 'pending_approval');
    }, 'two prune requests parked');
    expect(sent[0]!.message).toContain('waiting for Warden, production runs here');
  });
});
