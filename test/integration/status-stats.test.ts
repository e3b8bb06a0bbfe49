// status and stats (contract 1.3), end to end on the real bus and engine: a service and `*`, a stopped
// container, what is in flight (an executor intent and lease), an unknown target, the run log.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helmKey } from '../../src/bus/queue-names.js';
import { StatsDataSchema, StatusDataSchema } from '../../src/contracts/index.js';
import { makeIntentStore } from '../../src/intents/intent-store.js';
import { removeTestContainers, testDocker } from '../helpers/docker.js';
import { runScriptContainer, uniqueName, waitFor } from '../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../helpers/helm.js';
import { readRunLogEntries } from '../helpers/run-log.js';

let h: TestHelm;
let bus: BusClient;
let service: string;
let stoppedService: string;

beforeAll(async () => {
  h = await startTestHelm();
  bus = await busClient(h.prefix);
  service = uniqueName('busy');
  stoppedService = uniqueName('idle');
  // Two replicas that work a little (CPU, a file written), and one that is stopped.
  for (let i = 0; i < 2; i++) {
    await runScriptContainer('while true; do echo x >> /tmp/f; sleep 0.05; done', {
      labels: { 'ghost.service': service, 'ghost.environment': 'staging', ...h.scopeLabel },
    });
  }
  const idle = await runScriptContainer('sleep 600', {
    labels: { 'ghost.service': stoppedService, ...h.scopeLabel },
  });
  await testDocker().getContainer(idle.id).kill();
  await waitFor(
    async () => !(await testDocker().getContainer(idle.id).inspect()).State.Running,
    'container to stop',
  );
}, 60_000);
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await removeTestContainers();
});

const ask = (action: 'status' | 'stats', target: string) =>
  bus.request({ action, target, environment: 'production', reason: 'what is up?', params: {} });

describe('status', () => {
  it('reports each container of a service: state, health, image, uptime, restarts, environment', async () => {
    const r = await ask('status', service);
    expect(r).toMatchObject({ action: 'status', target: service, status: 'executed', logged: true });
    const data = StatusDataSchema.parse(r.data);
    expect(data.truncated).toBe(false);
    expect(data.containers).toHaveLength(2);
    for (const c of data.containers) {
      expect(c).toMatchObject({
        service,
        state: 'running',
        running: true,
        restart_count: 0,
        environment: 'staging',
        release: null,
        in_flight: { change: false, change_action: null, approvals: [] },
      });
      expect(c.uptime_s).toBeGreaterThanOrEqual(0);
      // The test image's HEALTHCHECK probes a web server these shell loops do not run: Docker's verdict
      // is reported as it stands (starting, then unhealthy), in words too.
      expect(c.docker_health).toMatch(/^(starting|unhealthy)$/);
      expect(c.health).toBe(`Docker health: ${c.docker_health}`);
      expect(c.image_id).toMatch(/^sha256:/);
    }
    expect(String(r.outcome)).toContain('2 containers of');
    const entries = (await readRunLogEntries(h.memoryDir)).filter((e) => e.job_id === r.job.id);
    expect(entries.map((e) => e.event)).toEqual(['received', 'executing', 'executed']);
  });

  it("'*' lists everything in scope by service, a stopped container as stopped, and what is in flight", async () => {
    const intents = makeIntentStore(h.memoryDir);
    await intents.write({
      op: `op-${service}`,
      service,
      action: 'restart',
      job_id: '1',
      approval_id: null,
      plan_hash: 'x',
      from_release: null,
      to_release: null,
      step: 'stop',
      at: new Date().toISOString(),
    });
    await bus.redis.set(
      helmKey(h.prefix, 'lease', `${h.helm.config.host}/${stoppedService}`),
      'held',
      'PX',
      30_000,
    );
    try {
      const r = await ask('status', '*');
      expect(r).toMatchObject({ action: 'status', target: '*', status: 'executed' });
      const data = StatusDataSchema.parse(r.data);
      expect(data.containers.map((c) => c.service).sort()).toEqual([service, service, stoppedService].sort());
      const busy = data.containers.filter((c) => c.service === service);
      for (const c of busy) expect(c.in_flight).toMatchObject({ change: true, change_action: 'restart' });
      const stopped = data.containers.find((c) => c.service === stoppedService)!;
      expect(stopped).toMatchObject({
        state: 'exited',
        running: false,
        healthy: false,
        uptime_s: null,
        environment: 'production',
        in_flight: { change: true, change_action: null },
      });
      expect(String(r.outcome)).toMatch(/1 not running/);
    } finally {
      await intents.done(`op-${service}`);
      await bus.redis.del(helmKey(h.prefix, 'lease', `${h.helm.config.host}/${stoppedService}`));
    }
  });

  it('refuses an unknown target as health_check does', async () => {
    const target = uniqueName('nothing');
    const [status, health] = await Promise.all([
      ask('status', target),
      bus.request({ action: 'health_check', target, environment: 'production', reason: 'r' }),
    ]);
    expect(status).toMatchObject({ status: 'failed', error: { code: 'unknown_target' } });
    expect((status.error as { message: string }).message).toBe((health.error as { message: string }).message);
  });
});

describe('stats', () => {
  it('samples CPU, memory and I/O per container and the host, and no CPU for a stopped one', async () => {
    const r = await ask('stats', '*');
    expect(r).toMatchObject({ action: 'stats', target: '*', status: 'executed', logged: true });
    const data = StatsDataSchema.parse(r.data);
    const busy = data.containers.filter((c) => c.service === service);
    expect(busy).toHaveLength(2);
    for (const c of busy) {
      expect(c.running).toBe(true);
      expect(c.cpu_percent).not.toBeNull();
      expect(c.memory_bytes).toBeGreaterThan(0);
      expect(c.memory_limit_bytes).toBeGreaterThanOrEqual(c.memory_bytes);
    }
    const stopped = data.containers.find((c) => c.service === stoppedService)!;
    expect(stopped).toMatchObject({ running: false, cpu_percent: null, memory_bytes: 0 });
    expect(data.host.memory_total_bytes).toBeGreaterThan(data.host.memory_used_bytes);
    expect(data.host.cpu_percent).toBeGreaterThanOrEqual(0);
    expect(data.host.disks.some((d) => d.paths.includes('/'))).toBe(true);
    expect(Buffer.byteLength(JSON.stringify(r.data))).toBeLessThan(64 * 1024);
  });

  it('reads one service, and refuses an unknown target', async () => {
    const one = await ask('stats', service);
    expect(StatsDataSchema.parse(one.data).containers.map((c) => c.service)).toEqual([service, service]);
    const unknown = await ask('stats', uniqueName('nothing'));
    expect(unknown).toMatchObject({ status: 'failed', error: { code: 'unknown_target' } });
  });

  it("refuses '*' for any other action as an invalid request", async () => {
    const r = await bus.request({ action: 'logs', target: '*', environment: 'dev', reason: 'r' });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'invalid_request' } });
  });
});
