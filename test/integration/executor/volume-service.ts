// A service whose data lives in a named volume, and the reads the remove tests check it with.
import { testDocker, testLabels } from '../../helpers/docker.js';
import { waitDockerHealthy } from './exec-harness.js';

/**
 * A worker container named and labelled `service` in `environment` that mounts `volume` (which must
 * exist) at /data, runs `script` (say, writing a file into /data) and then stays up, ready and healthy.
 */
export async function startVolumeService(opts: {
  service: string;
  environment: string;
  volume: string;
  script: string;
}): Promise<{ id: string }> {
  const c = await testDocker().createContainer({
    name: opts.service,
    Image: 'helm-test/worker:1',
    Cmd: ['/bin/sh', '-c', `${opts.script}; touch /tmp/ready; while true; do sleep 1; done`],
    Labels: testLabels({ 'ghost.service': opts.service, 'ghost.environment': opts.environment }),
    HostConfig: {
      NetworkMode: 'host',
      Init: true,
      Mounts: [{ Type: 'volume', Source: opts.volume, Target: '/data' }],
    },
  });
  await c.start();
  await waitDockerHealthy(c.id);
  return { id: c.id };
}

export async function volumeExists(name: string): Promise<boolean> {
  try {
    await testDocker().getVolume(name).inspect();
    return true;
  } catch {
    return false;
  }
}

/** The names of the running containers labelled ghost.service=`service`, sorted. */
export async function runningOf(service: string): Promise<string[]> {
  const list = await testDocker().listContainers({ filters: { label: [`ghost.service=${service}`] } });
  return list.map((c) => c.Names[0]!.slice(1)).sort();
}

/** Removes the test's volumes (after their containers); one already gone is fine. */
export async function removeVolumes(names: readonly string[]): Promise<void> {
  for (const v of names)
    await testDocker()
      .getVolume(v)
      .remove()
      .catch(() => undefined);
}
