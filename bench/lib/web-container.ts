// The bench's one web container: helm-test/web:1 on the host network at a free loopback port, with
// the labels the test sweep knows (helm.test, helm.test-pid so that a concurrent test run spares it
// while this process lives) plus helm.bench=1, and a ghost.service label Helm resolves the target by.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import type Dockerode from 'dockerode';
import { Budget, sleep } from './stats.js';

export const WEB_IMAGE = 'helm-test/web:1';

export interface WebContainer {
  id: string;
  name: string;
  service: string;
  port: number;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the bound port'));
      });
    });
  });
}

export function benchLabels(runId: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'helm.test': '1',
    'helm.bench': '1',
    'helm.test-run': runId,
    'helm.test-pid': String(process.pid),
    'helm.test-file': 'bench/run.ts',
    ...extra,
  };
}

/**
 * Starts the container and waits (bounded) until Docker's own HEALTHCHECK says healthy. `extraLabels`
 * put it in another Helm's scope or environment (the crash → alert section).
 */
export async function startWebContainer(
  docker: Dockerode,
  runId: string,
  extraLabels: Record<string, string> = {},
): Promise<WebContainer> {
  const port = await freePort();
  const suffix = randomBytes(4).toString('hex');
  const name = `helm-bench-web-${suffix}`;
  const service = `bench-web-${suffix}`;
  const c = await docker.createContainer({
    name,
    Image: WEB_IMAGE,
    Env: [`PORT=${port}`],
    Labels: benchLabels(runId, { ...extraLabels, 'ghost.service': service }),
    HostConfig: { NetworkMode: 'host', Init: true },
  });
  try {
    await c.start();
    const budget = new Budget(30_000);
    for (;;) {
      const info = await c.inspect();
      if (info.State.Health?.Status === 'healthy') break;
      if (!info.State.Running) throw new Error(`${name} stopped: ${info.State.Status}`);
      if (budget.expired)
        throw new Error(`${name} was not healthy after 30 s (${info.State.Health?.Status})`);
      await sleep(200);
    }
  } catch (err) {
    await removeContainer(docker, c.id);
    throw err;
  }
  return { id: c.id, name, service, port };
}

export async function removeContainer(docker: Dockerode, id: string): Promise<void> {
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== 404 && status !== 409) throw err;
  }
}

/** Removes bench containers left by bench runs whose process is gone (never another live run's). */
export async function sweepStaleBenchContainers(docker: Dockerode): Promise<number> {
  const found = await docker.listContainers({ all: true, filters: { label: ['helm.bench=1'] } });
  let removed = 0;
  for (const c of found) {
    const pid = Number(c.Labels?.['helm.test-pid']);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) continue;
    if (pid === process.pid) continue;
    await removeContainer(docker, c.Id);
    removed++;
  }
  return removed;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
