import net from 'node:net';
import type Dockerode from 'dockerode';
import type { DemoNames } from './demo-names.js';
import { labelsOf } from './demo-image.js';

/**
 * The demo's containers on Docker, and their removal. Each demo service is one container on the
 * host network (the engine may have no bridge) listening on a free loopback port, labelled with its
 * `ghost.environment` and the demo Helm's `ghost.scope`. No `ghost.service` label on purpose: Helm
 * resolves the service by the container's name, and an owner's Helm whose scope is "every container
 * labelled ghost.service" (the default) never watches the demo's containers or alerts on them.
 */
export interface DemoService {
  name: string;
  environment: 'staging' | 'production';
  port: number;
  url: string;
}

/** A free TCP port on 127.0.0.1 (bound to :0, read, closed). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        address && typeof address === 'object' ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export async function createDemoService(
  docker: Dockerode,
  names: DemoNames,
  environment: DemoService['environment'],
): Promise<DemoService> {
  const name = names.services[environment];
  const port = await freeLoopbackPort();
  const container = await docker.createContainer({
    name,
    Image: names.images.v1,
    Env: [`PORT=${port}`],
    Labels: {
      ...labelsOf(names),
      'ghost.environment': environment,
      [names.scope.key]: names.scope.value,
    },
    // busybox's sh as PID 1 ignores SIGTERM: an init makes every stop quick.
    HostConfig: { NetworkMode: 'host', Init: true },
  });
  await container.start();
  return { name, environment, port, url: `http://127.0.0.1:${port}` };
}

/** Waits until Docker calls the container healthy (its HEALTHCHECK), at most `timeoutMs`. */
export async function waitHealthy(docker: Dockerode, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await docker.getContainer(name).inspect()).State;
    if (state.Health?.Status === 'healthy') return;
    if (!state.Running) throw new Error(`${name} stopped (exit code ${state.ExitCode})`);
    if (Date.now() > deadline) throw new Error(`${name} did not turn healthy within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** What Docker shows of a service now: its containers' image ids, health and release label. */
export async function readBack(
  docker: Dockerode,
  names: DemoNames,
  service: string,
): Promise<Array<{ name: string; image_id: string; health: string; release: string | null }>> {
  const list = (
    await docker.listContainers({
      all: true,
      filters: { label: [`${names.label.key}=${names.label.value}`] },
    })
  ).filter((c) => c.Names.includes(`/${service}`));
  const out = [];
  for (const c of list) {
    const info = await docker.getContainer(c.Id).inspect();
    if (!info.State.Running) continue;
    out.push({
      name: info.Name.replace(/^\//, ''),
      image_id: info.Image,
      health: info.State.Health?.Status ?? 'none',
      release: info.Config.Labels?.['helm.release'] ?? null,
    });
  }
  return out;
}

/** Removes every container and image carrying this run's label; returns how many of each. */
export async function removeDemoDocker(
  docker: Dockerode,
  names: DemoNames,
): Promise<{ containers: number; images: number }> {
  const label = [`${names.label.key}=${names.label.value}`];
  const containers = await docker.listContainers({ all: true, filters: { label } });
  for (const c of containers) await docker.getContainer(c.Id).remove({ force: true, v: true });
  // By id with force: Helm's release tags (helm-release/…) on the same image go with it.
  const images = await docker.listImages({ all: true, filters: { label } });
  for (const i of images)
    await docker
      .getImage(i.Id)
      .remove({ force: true })
      .catch((err: { statusCode?: number }) => {
        if (err.statusCode !== 404) throw err; // already gone with another tag's removal
      });
  return { containers: containers.length, images: images.length };
}
