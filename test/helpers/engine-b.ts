// The second Docker engine of the multi-host tests (issue 13): another "host" on this machine.
// scripts/test-env.sh starts it beside the first (its own data root, exec root, pidfile and socket,
// bridge disabled) and copies the test images into it, so both engines hold the same image IDs.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { waitFor } from './containers.js';
import {
  freePort,
  LABEL_FILE,
  LABEL_RUN,
  LABEL_TEST,
  testFileId,
  testLabels,
  testRunId,
  WEB_IMAGE_V1,
} from './docker.js';
import { ENGINE_B_SOCKET } from './engine-b-sweep.js';
import { startTestHelm, type TestHelm } from './helm.js';
import { removeContainers } from './sweep.js';

export { ENGINE_B_SOCKET, sweepEngineB } from './engine-b-sweep.js';

/** The DOCKER_HOST a Helm process (or the docker CLI) uses to reach the second engine. */
export function engineBDockerHost(): string {
  return `unix://${ENGINE_B_SOCKET}`;
}

let docker: Docker | undefined;
/** A plain dockerode handle on the second engine. */
export function engineBDocker(): Docker {
  docker ??= new Docker({ socketPath: ENGINE_B_SOCKET });
  return docker;
}

/** Throws, saying how to start it, when the second engine does not answer. */
export async function requireEngineB(): Promise<Docker> {
  const engine = engineBDocker();
  try {
    await engine.ping();
  } catch (error) {
    throw new Error(
      `the second Docker engine at ${engineBDockerHost()} does not answer (${(error as Error).message}): ` +
        'run `sudo bash scripts/test-env.sh` (it starts it idempotently)',
    );
  }
  return engine;
}

/** A web container on the second engine (host network, a free loopback port, test labels, init). */
export async function startWebServiceOnB(
  options: { labels?: Record<string, string>; image?: string } = {},
): Promise<{ id: string; name: string; port: number; url: string }> {
  const engine = await requireEngineB();
  const port = await freePort();
  const name = `helm-test-web-b-${randomBytes(4).toString('hex')}`;
  const container = await engine.createContainer({
    name,
    Image: options.image ?? WEB_IMAGE_V1,
    Labels: testLabels(options.labels),
    Env: [`PORT=${port}`],
    HostConfig: { NetworkMode: 'host', Init: true },
  });
  await container.start();
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    async () => (await fetch(url).catch(() => null))?.ok ?? false,
    `${name} to serve on engine B`,
  );
  return { id: container.id, name, port, url };
}

/** The second engine's containers of this file in this run, force-removed. */
export async function removeEngineBContainers(): Promise<string[]> {
  const label = [LABEL_TEST, `${LABEL_RUN}=${testRunId()}`, `${LABEL_FILE}=${testFileId()}`];
  const found = await engineBDocker().listContainers({ all: true, filters: { label } });
  return removeContainers(
    engineBDocker(),
    found.map((c) => c.Id),
  );
}

/**
 * Host B's Helm (HELM_HOST_ID host-b) on the second engine, on host A's bus and scope, holding A's
 * Helm key (copied into its own memory folder, as the README says). The caller closes it.
 */
export async function startHelmOnB(a: TestHelm, env: Record<string, string> = {}): Promise<TestHelm> {
  const memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-host-b-'));
  await copyFile(path.join(a.memoryDir, 'helm.key'), path.join(memoryDir, 'helm.key'));
  return startTestHelm(
    {
      HELM_HOST_ID: 'host-b',
      DOCKER_HOST: engineBDockerHost(),
      HELM_SCOPE_LABELS: a.env['HELM_SCOPE_LABELS']!,
      ...env,
    },
    { prefix: a.prefix, memoryDir },
  );
}
