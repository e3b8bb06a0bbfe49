// Helpers for integration tests on the real Docker engine (scripts/test-env.sh starts it).
// Every container a test starts carries testLabels(), so the global setup can sweep what a crashed
// run left, and removeTestContainers() can clean up one file's containers without touching others.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import path from 'node:path';
import Docker from 'dockerode';
import { GenericContainer, type StartedTestContainer, Wait } from 'testcontainers';
import { expect, inject } from 'vitest';
import { LABEL_FILE, LABEL_PID, LABEL_RUN, LABEL_TEST, removeContainers } from './sweep.js';

export { LABEL_FILE, LABEL_PID, LABEL_RUN, LABEL_TEST } from './sweep.js';

/** The web test image (scripts/test-env.sh builds `helm-test/web:1` and `helm-test/web:2`). */
export const WEB_IMAGE_V1 = 'helm-test/web:1';
export const WEB_IMAGE_V2 = 'helm-test/web:2';
export const REDIS_IMAGE = 'helm-test/redis:1';

const fallbackRunId = `p${process.pid}-${randomBytes(3).toString('hex')}`;

function injected<K extends 'testRunId' | 'testRunPid'>(key: K) {
  try {
    return inject(key);
  } catch {
    return undefined; // outside a vitest worker (a script using these helpers)
  }
}

/** Id of this test run (from the global setup), or a per-process id outside vitest. */
export function testRunId(): string {
  return injected('testRunId') ?? process.env['HELM_TEST_RUN_ID'] ?? fallbackRunId;
}

/** PID that owns this run's containers: a sweep spares them while it lives. */
export function testRunPid(): number {
  return injected('testRunPid') ?? (Number(process.env['HELM_TEST_RUN_PID']) || process.pid);
}

let currentFile: string | undefined;
/** The current test file, relative to the repo (e.g. `test/integration/test-bed.test.ts`). */
export function testFileId(): string {
  // Modules are isolated per test file, so the first answer holds for the whole file (hooks too).
  if (currentFile) return currentFile;
  let testPath: string | undefined;
  try {
    testPath = expect.getState().testPath;
  } catch {
    testPath = undefined;
  }
  if (!testPath) return `pid-${process.pid}`;
  currentFile = path.relative(process.cwd(), testPath);
  return currentFile;
}

/**
 * Labels for every container a test creates (directly, through testcontainers, or through Helm):
 * `helm.test=1`, `helm.test-run=<run id>`, `helm.test-pid=<vitest pid>`, `helm.test-file=<file>`.
 */
export function testLabels(extra: Record<string, string> = {}): Record<string, string> {
  return {
    [LABEL_TEST]: '1',
    [LABEL_RUN]: testRunId(),
    [LABEL_PID]: String(testRunPid()),
    [LABEL_FILE]: testFileId(),
    ...extra,
  };
}

/** A free TCP port on 127.0.0.1 (bound to :0, read, closed). */
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

let docker: Docker | undefined;
/** A plain dockerode handle on the test engine (DOCKER_HOST, else /var/run/docker.sock). */
export function testDocker(): Docker {
  docker ??= new Docker();
  return docker;
}

type HealthCheck = Parameters<GenericContainer['withHealthCheck']>[0];

/**
 * GenericContainer with HostConfig.Init, which testcontainers 11 has no builder method for.
 * Busybox/httpd as PID 1 ignore SIGTERM, so without an init every stop waits out its timeout.
 */
export class InitContainer extends GenericContainer {
  withInit(init = true): this {
    this.hostConfig.Init = init;
    return this;
  }
}

export interface WebServiceOptions {
  /** Container name; default `helm-test-web-<random>`. */
  name?: string;
  /** Loopback port httpd listens on (env PORT); default a free one. */
  port?: number;
  /** Default `helm-test/web:1`. */
  image?: string;
  /** Added to testLabels() (e.g. `{ 'ghost.service': 'web' }`). */
  labels?: Record<string, string>;
  /** Extra env, e.g. `{ WEB_FAIL_HEALTH: '1' }`. */
  env?: Record<string, string>;
  /**
   * `true`: wait until Docker reports the image's health check healthy (about 1–2 s).
   * An object: replace the image's health check with this one, then wait for healthy.
   * Default: wait until httpd serves `/` inside the container (quickest).
   */
  healthcheck?: boolean | HealthCheck;
  /** Default 30 s. */
  startupTimeoutMs?: number;
}

export interface WebService {
  container: StartedTestContainer;
  id: string;
  name: string;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

/**
 * Starts a throwaway web container (host network, loopback port, test labels, init) through
 * testcontainers. Waits with exec/health strategies: `Wait.forHttp` and exposed ports do not work on
 * host networking.
 */
export async function startWebService(options: WebServiceOptions = {}): Promise<WebService> {
  const port = options.port ?? (await freePort());
  const name = options.name ?? `helm-test-web-${randomBytes(4).toString('hex')}`;
  let container = new InitContainer(options.image ?? WEB_IMAGE_V1)
    .withInit()
    .withName(name)
    .withNetworkMode('host')
    .withLabels(testLabels(options.labels))
    .withEnvironment({ PORT: String(port), ...options.env })
    .withStartupTimeout(options.startupTimeoutMs ?? 30_000);
  if (typeof options.healthcheck === 'object') container = container.withHealthCheck(options.healthcheck);
  container = container.withWaitStrategy(
    options.healthcheck
      ? Wait.forHealthCheck()
      : Wait.forSuccessfulCommand(`wget -q -O /dev/null http://127.0.0.1:${port}/`),
  );
  const started = await container.start();
  return { container: started, id: started.getId(), name, port, url: `http://127.0.0.1:${port}` };
}

/**
 * Force-removes test containers matching every label in `filterLabels` (value `undefined` or ''
 * means "label present"). Default: this file's containers in this run.
 * @returns the ids removed
 */
export async function removeTestContainers(
  filterLabels: Record<string, string | undefined> = { [LABEL_RUN]: testRunId(), [LABEL_FILE]: testFileId() },
): Promise<string[]> {
  const label = [
    LABEL_TEST,
    ...Object.entries(filterLabels).map(([k, v]) => (v === undefined || v === '' ? k : `${k}=${v}`)),
  ];
  const found = await testDocker().listContainers({ all: true, filters: { label } });
  return removeContainers(
    testDocker(),
    found.map((c) => c.Id),
  );
}
