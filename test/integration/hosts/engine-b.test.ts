// The multi-host test bed (issue 13): a second real Docker engine beside the first, with its own
// data, holding the same test images, and containers on one engine unseen by the other.
import { afterAll, describe, expect, it } from 'vitest';
import { removeContainers } from '../../helpers/sweep.js';
import { testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';
import { engineBDocker, requireEngineB } from '../../helpers/engine-b.js';

const created: string[] = [];
afterAll(async () => {
  await removeContainers(engineBDocker(), created);
});

describe('the second engine', () => {
  it('is another engine with its own data root, holding the test images under the same IDs', async () => {
    const b = await requireEngineB();
    const [infoA, infoB] = await Promise.all([testDocker().info(), b.info()]);
    expect(infoB.DockerRootDir).not.toBe(infoA.DockerRootDir);
    // (Info.ID comes from /etc/docker/key.json, shared by both daemons on one machine.)
    const [imageA, imageB] = await Promise.all([
      testDocker().getImage(WEB_IMAGE_V1).inspect(),
      b.getImage(WEB_IMAGE_V1).inspect(),
    ]);
    expect(imageB.Id).toBe(imageA.Id);
  });

  it('runs a container that the first engine does not see', async () => {
    const b = await requireEngineB();
    const labels = testLabels({ 'ghost.service': 'engine-b-probe' });
    const container = await b.createContainer({
      Image: WEB_IMAGE_V1,
      Labels: labels,
      Cmd: ['sleep', '30'],
      HostConfig: { NetworkMode: 'none', Init: true },
    });
    created.push(container.id);
    const filters = { label: ['ghost.service=engine-b-probe', `helm.test-run=${labels['helm.test-run']}`] };
    const [onA, onB] = await Promise.all([
      testDocker().listContainers({ all: true, filters }),
      b.listContainers({ all: true, filters }),
    ]);
    expect(onB.map((c) => c.Id)).toEqual([container.id]);
    expect(onA).toEqual([]);
  });
});
