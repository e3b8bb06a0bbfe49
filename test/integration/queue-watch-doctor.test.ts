// The watch on the queues other agents consume, and `helm doctor` reading the same state.
import { writeFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor } from '../../src/cli/doctor.js';
import { loadConfig } from '../../src/config/config.js';
import { waitFor } from '../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../helpers/helm.js';

let h: TestHelm;
let bus: BusClient;
beforeAll(async () => {
  h = await startTestHelm({ HELM_QUEUE_WATCH_INTERVAL_MS: '300' });
  bus = await busClient(h.prefix);
});
afterAll(async () => {
  await bus?.close();
  await h?.close();
});

describe('queue watch', () => {
  it('alerts consumer_absent when Warden is not consuming, and resolved when it comes', async () => {
    const absent = await waitFor(
      async () =>
        (await bus.alertsSent()).find((a) => a.kind === 'consumer_absent' && a.target === 'warden.requests'),
      'consumer_absent',
    );
    expect(absent).toMatchObject({ severity: 'warning', dedup_key: 'consumer_absent:warden.requests' });
    expect(String(absent.message)).toContain('warden.requests has no consumer');

    const warden = new Worker('warden.requests', async () => undefined, {
      connection: bus.redis.duplicate(),
      prefix: h.prefix,
    });
    try {
      const resolved = await waitFor(
        async () =>
          (await bus.alertsSent()).find((a) => a.kind === 'resolved' && a.target === 'warden.requests'),
        'resolved',
      );
      expect(resolved.dedup_key).toBe('consumer_absent:warden.requests');
      // One alert per change of state, not one per sample.
      expect(
        (await bus.alertsSent()).filter(
          (a) => a.kind === 'consumer_absent' && a.target === 'warden.requests',
        ),
      ).toHaveLength(1);
    } finally {
      await warden.close();
    }
  });
});

describe('helm doctor', () => {
  it('reports Redis, Docker, the heartbeat, the queues and a verified run log; then a broken chain', async () => {
    const config = loadConfig(h.env);
    const checks = await runDoctor(config);
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName['redis']).toMatchObject({ level: 'ok' });
    expect(byName['redis']!.message).toContain('maxmemory-policy noeviction');
    expect(byName['docker']).toMatchObject({ level: 'ok' });
    expect(byName['heartbeat']).toMatchObject({ level: 'ok' });
    expect(byName['queue sentinel.alerts']).toMatchObject({ level: 'warn' });
    expect(byName['queue sentinel.alerts']!.message).toContain('no consumer');
    expect(byName['run log run_log.md']).toMatchObject({ level: 'ok' });
    expect(byName['scope']!.message).toContain(`ghost.scope=${h.scopeLabel['ghost.scope']}`);
    // The monitor's report (written by the running Helm's monitor) is read from Redis.
    await waitFor(
      async () =>
        (await runDoctor(config)).find((c) => c.name === 'monitor' && c.message.includes('sampled')),
      'the monitor report',
    );

    // Someone edits a line of the run log: doctor fails the chain.
    const file = path.join(h.memoryDir, 'run_log.md');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('started', 'stopped'));
    const after = await runDoctor(config);
    const runLog = after.find((c) => c.name === 'run log run_log.md')!;
    expect(runLog.level).toBe('fail');
    expect(runLog.message).toMatch(/chain broken: line \d+/);
  });

  it('says Helm is not running when there is no heartbeat', async () => {
    const checks = await runDoctor(loadConfig({ ...h.env, HELM_QUEUE_PREFIX: 'nobody-here' }));
    expect(checks.find((c) => c.name === 'heartbeat')).toMatchObject({ level: 'fail' });
  });
});
