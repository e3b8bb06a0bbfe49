// A deploy to a service that has no container yet: the owner's services file defines it (its
// environment decides the policy), and without a definition the deploy is unknown_target.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, testDocker } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { removeReleaseTags } from '../executor/exec-harness.js';

let h: TestHelm | undefined;
let bus: BusClient | undefined;
const name = uniqueName('fresh');
afterAll(async () => {
  await bus?.close();
  await h?.close();
  // Created from the services file, which may not carry helm.* labels: removed by its service label.
  for (const c of await testDocker().listContainers({
    all: true,
    filters: { label: [`ghost.service=${name}`] },
  })) {
    await testDocker().getContainer(c.Id).remove({ force: true });
  }
  await removeReleaseTags([name]);
});

describe('a first deploy', () => {
  it('creates the service from the owner’s services file, and refuses a service it does not define', async () => {
    const port = await freePort();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'helm-services-'));
    const file = path.join(dir, 'services.yml');
    await writeFile(
      file,
      [
        'services:',
        `  ${name}:`,
        '    image: helm-test/web',
        '    environment: dev',
        `    ports: { PORT: ${port} }`,
        `    healthcheck: http://127.0.0.1:${port}/health`,
        '',
      ].join('\n'),
    );
    h = await startTestHelm({ HELM_SERVICES_FILE: file, HELM_STABILITY_WINDOW_S: '1' });
    bus = await busClient(h.prefix);
    const imageId = (await testDocker().getImage('helm-test/web:2').inspect()).Id;

    const r = await bus.request({
      action: 'deploy',
      target: name,
      environment: 'dev',
      reason: 'first release',
      params: { image: 'helm-test/web:2', image_id: imageId },
    });
    expect(r).toMatchObject({ status: 'executed' });
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('version 2');

    const unknown = await bus.request({
      action: 'deploy',
      target: uniqueName('undefined'),
      environment: 'dev',
      reason: 'x',
      params: { image: 'helm-test/web:2', image_id: imageId },
    });
    expect(unknown).toMatchObject({ status: 'failed', error: { code: 'unknown_target' } });
  });
});
