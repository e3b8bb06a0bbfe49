// One operation per service at a time, in arrival order, without holding a worker slot while
// waiting; different services run side by side.
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { removeReleaseTags } from '../executor/exec-harness.js';
import { uniqueName } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { readRunLogEntries } from '../../helpers/run-log.js';

let h: TestHelm | undefined;
let bus: BusClient | undefined;
// Release tags Helm put on images for these services, removed with them.
const services: string[] = [];
const named = (stem: string) => {
  const n = uniqueName(stem);
  services.push(n);
  return n;
};

afterAll(async () => {
  await removeReleaseTags(services);
  await bus?.close();
  await h?.close();
  await removeTestContainers();
});

async function imageId(ref: string): Promise<string> {
  return (await testDocker().getImage(ref).inspect()).Id;
}

describe('per-service order', () => {
  it('runs two deploys of one service one after the other, and another service meanwhile', async () => {
    // Two executor slots: if a job waiting for its service's lease held one, service B would wait too.
    // An 8 s stability window keeps A1 running long enough that B1 starts inside it even when the
    // bed is loaded (B1's intake and planning then take seconds); with 2 s it flaked.
    h = await startTestHelm({
      HELM_EXEC_CONCURRENCY: '2',
      HELM_STABILITY_WINDOW_S: '8',
      HELM_HEALTH_TIMEOUT_S: '15',
    });
    bus = await busClient(h.prefix);
    const a = named('order-a');
    const b = named('order-b');
    const webA = await startWebService({
      labels: { 'ghost.service': a, 'ghost.environment': 'dev' },
      healthcheck: true,
    });
    await startWebService({ labels: { 'ghost.service': b, 'ghost.environment': 'dev' }, healthcheck: true });
    const v1 = await imageId('helm-test/web:1');
    const v2 = await imageId('helm-test/web:2');
    const deploy = (target: string, image: string, id: string) =>
      bus!.send({
        action: 'deploy',
        target,
        environment: 'dev',
        reason: 'order',
        params: { image, image_id: id },
      });

    const a1 = await deploy(a, 'helm-test/web:2', v2);
    const a2 = await deploy(a, 'helm-test/web:1', v1);
    const b1 = await deploy(b, 'helm-test/web:2', v2);
    const results = (await Promise.all(
      [a1, a2, b1].map((j) => j.waitUntilFinished(bus!.events, 90_000)),
    )) as Array<{ status: string }>;
    expect(results.map((r) => r.status)).toEqual(['executed', 'executed', 'executed']);
    // The second deploy of A ran last: A serves version 1 again.
    expect(await (await fetch(`${webA.url}/`)).text()).toContain('version 1');

    const entries = await readRunLogEntries(h.memoryDir);
    const at = (jobId: string | undefined, event: string) =>
      Date.parse(entries.find((e) => e.job_id === jobId && e.event === event)!.at);
    // A2 started only after A1 ended.
    expect(at(a2.id, 'executing')).toBeGreaterThanOrEqual(at(a1.id, 'executed'));
    // B1 started while A1 was still running, although A2 had been handed out before it: the
    // waiting A2 held no slot (with it holding one, B1 could only start once A1 ended).
    expect(at(b1.id, 'executing')).toBeLessThan(at(a1.id, 'executed'));
  });
});
