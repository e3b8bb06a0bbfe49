// Helm as the owner runs it: a real process that serves the bus, keeps its heartbeat, stops cleanly
// on SIGTERM, and whose heartbeat expires when it is killed.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HeartbeatSchema, heartbeatKeys } from '../../src/contracts/index.js';
import { removeTestContainers, startWebService } from '../helpers/docker.js';
import { uniqueName, waitFor } from '../helpers/containers.js';
import { type BusClient, busClient, cardRequest, TEST_REDIS_URL } from '../helpers/helm.js';
import { type HelmProcess, spawnHelm } from '../helpers/helm-process.js';
import { freshPrefix } from '../helpers/queue-prefix.js';
import { readRunLogEntries } from '../helpers/run-log.js';

const procs: HelmProcess[] = [];
let bus: BusClient | undefined;
afterAll(async () => {
  for (const p of procs) await p.kill9();
  await bus?.close();
  await removeTestContainers();
});

async function start(prefix: string, memoryDir: string, instance: string) {
  const p = spawnHelm({
    REDIS_URL: TEST_REDIS_URL,
    HELM_QUEUE_PREFIX: prefix,
    HELM_MEMORY_DIR: memoryDir,
    HELM_INSTANCE: instance,
    HELM_HEARTBEAT_INTERVAL_MS: '300',
    LOG_LEVEL: 'info',
  });
  procs.push(p);
  return p;
}

describe('Helm as a process', () => {
  it('beats, serves a health_check, and on kill -9 its heartbeat expires', async () => {
    const prefix = freshPrefix();
    const memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-proc-'));
    bus = await busClient(prefix);
    const p = await start(prefix, memoryDir, 'proc-a');

    const beat = await waitFor(
      async () => bus!.redis.get(heartbeatKeys(prefix, 'proc-a').any),
      'the heartbeat',
      30_000,
    );
    const parsed = HeartbeatSchema.parse(JSON.parse(beat));
    expect(parsed.pid).toBe(p.child.pid);
    // host: HELM_HOST_ID, by default the hostname; the gate also takes the decisions forwarded to this
    // host, and the executor consumes this host's exec queue.
    expect(parsed.host).toBe(os.hostname());
    expect(parsed.workers).toEqual([
      'helm.actions',
      'helm.approvals',
      `helm.approvals.${os.hostname()}`,
      'helm.requests',
      `helm.exec.${os.hostname()}`,
    ]);
    expect(parsed.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await bus.redis.get(heartbeatKeys(prefix, 'proc-a').instance)).not.toBeNull();
    const ttl = await bus.redis.pttl(heartbeatKeys(prefix, 'proc-a').instance);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(900);

    const service = uniqueName('proc-web');
    await startWebService({ labels: { 'ghost.service': service } });
    const r = await bus.request(cardRequest({ target: service, environment: 'dev' }));
    expect(r.status).toBe('executed');

    await p.kill9();
    await waitFor(
      async () =>
        (await bus!.redis.exists(
          heartbeatKeys(prefix, 'proc-a').any,
          heartbeatKeys(prefix, 'proc-a').instance,
        )) === 0,
      'the heartbeat to expire',
      5_000,
    );
  });

  it('stops cleanly on SIGTERM: a shutdown entry in the run log and its instance key gone at once', async () => {
    const prefix = freshPrefix();
    const memoryDir = await mkdtemp(path.join(os.tmpdir(), 'helm-proc-'));
    const b = await busClient(prefix);
    try {
      const p = await start(prefix, memoryDir, 'proc-b');
      await waitFor(
        async () => b.redis.get(heartbeatKeys(prefix, 'proc-b').instance),
        'the heartbeat',
        30_000,
      );
      expect(await p.terminate()).toBe(0);
      expect(await b.redis.exists(heartbeatKeys(prefix, 'proc-b').instance)).toBe(0);
      const events = (await readRunLogEntries(memoryDir)).map((e) => e.event);
      expect(events).toContain('startup');
      expect(events.at(-1)).toBe('shutdown');
    } finally {
      await b.close();
    }
  });
});
