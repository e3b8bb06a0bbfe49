// vitest globalSetup of the integration project: checks that the test Redis and the Docker engine
// answer (scripts/test-env.sh brings both up), sweeps test containers left by crashed runs, and
// hands every test file a run id (inject('testRunId')) that helpers put on the containers they start.
import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { Redis } from 'ioredis';
import type { TestProject } from 'vitest/node';
import { sweepEngineB } from './engine-b-sweep.js';
import { sweepTestContainers } from './sweep.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Id of this `vitest run`; label `helm.test-run` on every container a test starts. */
    testRunId: string;
    /** PID of the vitest main process; label `helm.test-pid`, so a sweep spares live runs. */
    testRunPid: number;
  }
}

const FIX = 'run `sudo bash scripts/test-env.sh` (it installs and starts Redis and dockerd idempotently)';

export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6399';

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  let lastError: Error | undefined; // ioredis rejects with "Connection is closed."; the cause is here
  redis.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await redis.connect();
    const pong = await redis.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${pong}`);
  } catch (error) {
    const reason = lastError?.message ?? (error as Error).message;
    throw new Error(`Test Redis at ${url} does not answer (${reason}): ${FIX}`);
  } finally {
    redis.disconnect();
  }
}

async function checkDocker(docker: Docker): Promise<void> {
  try {
    await docker.ping();
  } catch (error) {
    const where = process.env['DOCKER_HOST'] ?? 'unix:///var/run/docker.sock';
    throw new Error(`Docker engine at ${where} does not answer (${(error as Error).message}): ${FIX}`);
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const redisUrl = process.env['HELM_TEST_REDIS_URL'] ?? DEFAULT_TEST_REDIS_URL;
  const docker = new Docker();
  await Promise.all([checkRedis(redisUrl), checkDocker(docker)]);

  const runId = `r${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  project.provide('testRunId', runId);
  project.provide('testRunPid', process.pid);
  process.env['HELM_TEST_RUN_ID'] = runId;
  process.env['HELM_TEST_RUN_PID'] = String(process.pid);

  const swept = [
    ...(await sweepTestContainers(docker, { ownPid: process.pid })),
    ...(await sweepEngineB({ ownPid: process.pid })),
  ];
  if (swept.length > 0)
    console.log(`[global-setup] removed ${swept.length} container(s) left by earlier runs`);

  return async () => {
    // Everything of this run, then whatever crashed runs left meanwhile.
    await sweepTestContainers(docker, { ownPid: process.pid, runId });
    await sweepEngineB({ ownPid: process.pid, runId });
  };
}
