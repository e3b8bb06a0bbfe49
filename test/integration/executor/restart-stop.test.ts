// restart and stop on the real engine: graceful, verified (healthy after a restart, stopped after a
// stop), one plain outcome line, kept containers of earlier releases left alone, protected roles refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restartService } from '../../../src/executor/restart.js';
import { stopService } from '../../../src/executor/stop.js';
import { freePort, removeTestContainers, testDocker } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  dockerCalls,
  expectEveryChangeAnnounced,
  type Harness,
  inspect,
  makeHarness,
  removeHarnessDir,
  resolveService,
  startServiceContainer,
} from './exec-harness.js';

let h: Harness;
beforeAll(() => {
  h = makeHarness({ healthTimeoutMs: 15_000 });
});
afterAll(async () => {
  await removeTestContainers();
  if (h) removeHarnessDir(h.memoryDir);
});

describe('restart', () => {
  it('restarts gracefully and verifies Docker’s health check passes again; a kept container is left alone', async () => {
    h.reset();
    const service = uniqueName('restart');
    const web = await startServiceContainer({ service });
    const kept = await startServiceContainer({ service, name: `${web.name}-helm-r1`, waitHealthy: false });
    await testDocker().getContainer(kept.id).stop({ t: 1 });
    const before = await inspect(web.id);
    const out = await restartService(h.ctx, await resolveService(service), 5);
    expect(out).toMatchObject({ ok: true });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(
      new RegExp(`^restarted ${service} \\(1 container\\) in [0-9.]+ s; healthy: Docker health: healthy$`),
    );
    const after = await inspect(web.id);
    expect(after.State.StartedAt).not.toBe(before.State.StartedAt);
    expect(after.State.Health?.Status).toBe('healthy');
    expect((await inspect(kept.id)).State.Running).toBe(false);
    expect(h.steps()).toEqual(['restart']);
    expect(dockerCalls(h.log)).toEqual(['restartContainer']);
    expectEveryChangeAnnounced(h.log);
  });

  it('uses the ghost.healthcheck label when there is one: "healthy: HTTP 200"', async () => {
    h.reset();
    const service = uniqueName('restart-http');
    const p = await freePort();
    await startServiceContainer({
      service,
      port: p,
      labels: { 'ghost.healthcheck': `http://127.0.0.1:${p}/health` },
    });
    const out = await restartService(h.ctx, await resolveService(service), 5);
    expect(out).toMatchObject({ ok: true });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(/; healthy: HTTP 200$/);
  });

  it('fails with health_check_failed (and the last log lines) when the service is not healthy after the restart', async () => {
    h.reset();
    const service = uniqueName('restart-bad');
    await startServiceContainer({ service, env: { WEB_FAIL_HEALTH: '1' }, waitHealthy: false });
    const out = await restartService(h.ctx, await resolveService(service), 5);
    expect(out).toMatchObject({ ok: false, code: 'health_check_failed' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toMatch(/^restarted .+, but Docker reports it unhealthy/);
    const logs = out.data!['last_logs'] as Array<{ text: string }>;
    expect(logs.some((l) => l.text.includes('helm-test web version 1 serving'))).toBe(true);
  });

  it('refuses a protected target (ghost.role=bus) and changes nothing', async () => {
    h.reset();
    const service = uniqueName('bus');
    await startServiceContainer({ service, labels: { 'ghost.role': 'bus' }, waitHealthy: false });
    const out = await restartService(h.ctx, await resolveService(service), 5);
    expect(out).toMatchObject({ ok: false, code: 'protected_target' });
    const stop = await stopService(h.ctx, await resolveService(service), 5);
    expect(stop).toMatchObject({ ok: false, code: 'protected_target' });
    expect(h.log).toEqual([]);
  });
});

describe('stop', () => {
  it('stops the running replicas gracefully, verifies them stopped, and names those already stopped', async () => {
    h.reset();
    const service = uniqueName('stop');
    const a = await startServiceContainer({ service, name: `${service}-1`, waitHealthy: false });
    const b = await startServiceContainer({ service, name: `${service}-2`, waitHealthy: false });
    await testDocker().getContainer(b.id).stop({ t: 1 });
    h.reset();
    const started = performance.now();
    const out = await stopService(h.ctx, await resolveService(service), 10);
    expect(performance.now() - started).toBeLessThan(5_000); // graceful: the init forwards SIGTERM
    expect(out).toMatchObject({ ok: true, data: { stopped: [a.name], already_stopped: [b.name] } });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(
      new RegExp(`^stopped ${service} \\(1 container\\) in [0-9.]+ s; ${b.name} was already stopped$`),
    );
    const after = await inspect(a.id);
    expect(after.State.Running).toBe(false);
    expect(after.State.ExitCode).not.toBe(137); // not SIGKILLed
    expect(h.steps()).toEqual(['stop']);
    expectEveryChangeAnnounced(h.log);
  });
});
