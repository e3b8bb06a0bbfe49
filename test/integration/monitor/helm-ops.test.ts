// Helm's own changes never page: the monitor runs beside a real in-process Helm (same bus prefix and
// memory folder, so it sees the executor's lease and intents). A restart, a stop and a deploy done by
// Helm raise no downtime and no stopped_by_owner; a dev container Helm stopped is not auto-restarted;
// a crash after the operation ended is alerted again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { removeReleaseTags } from '../executor/exec-harness.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

let helm: TestHelm;
let bus: BusClient;
let h: MonitorHarness;
const services: string[] = [];

beforeAll(async () => {
  helm = await startTestHelm({ HELM_STABILITY_WINDOW_S: '1', HELM_HEALTH_TIMEOUT_S: '15' });
  bus = await busClient(helm.prefix);
  h = await startMonitorHarness({
    prefix: helm.prefix,
    memoryDir: helm.memoryDir,
    scope: helm.scopeLabel['ghost.scope'],
  });
});
afterAll(async () => {
  await h?.close();
  await bus?.close();
  await helm?.close();
  await removeReleaseTags(services);
  await removeTestContainers();
});

const PAGING = new Set(['downtime', 'unhealthy', 'stopped_by_owner', 'crash_loop']);
const paging = (service: string) => h.alertsFor(service).filter((a) => PAGING.has(a.kind));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function service(environment: string) {
  const name = uniqueName(`mon-op-${environment.slice(0, 4)}`);
  services.push(name);
  const web = await startWebService({
    labels: { ...helm.scopeLabel, 'ghost.service': name, 'ghost.environment': environment },
    healthcheck: true,
  });
  await waitFor(
    async () => h.monitor.watcher.snapshot().some((c) => c.id === web.id && c.phase === 'running'),
    `the monitor to see ${name}`,
  );
  return { ...web, service: name };
}

async function request(action: string, target: string, environment: string, params: Record<string, unknown>) {
  const r = await bus.request({ action, target, environment, reason: `monitor test: ${action}`, params });
  expect(r).toMatchObject({ status: 'executed' });
  await sleep(800); // late events (die/stop arrive tens of ms after the change)
}

describe("Helm's own changes", () => {
  it('a restart by Helm raises no alert; the run log says it was Helm', async () => {
    const web = await service('staging');
    await request('restart', web.service, 'staging', { timeout_s: 5 });
    expect(paging(web.service)).toEqual([]);
    expect(await h.runLogEvents(web.service)).toContain('monitor_intended');
  });

  it('a stop by Helm raises no alert, and a dev container Helm stopped stays stopped', async () => {
    const web = await service('dev');
    await request('stop', web.service, 'dev', { timeout_s: 5 });
    await sleep(700);
    expect(paging(web.service)).toEqual([]);
    expect((await testDocker().getContainer(web.id).inspect()).State.Running).toBe(false);
    expect(await h.runLogEvents(web.service)).not.toContain('auto_restart');
  });

  it('a deploy by Helm raises no alert; a crash after it ended does', async () => {
    const web = await service('staging');
    const imageId = (await testDocker().getImage('helm-test/web:2').inspect()).Id;
    await request('deploy', web.service, 'staging', { image: 'helm-test/web:2', image_id: imageId });
    expect(paging(web.service)).toEqual([]);

    const running = (
      await testDocker().listContainers({ filters: { label: [`ghost.service=${web.service}`] } })
    )[0];
    expect(running?.Image).toBe('helm-test/web:2');
    await sleep(3_200); // past the monitor's memory of the operation
    await testDocker().getContainer(running!.Id).kill();
    const down = await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === web.service);
    expect(down.alert).toMatchObject({ severity: 'warning', environment: 'staging' });
  });
});
