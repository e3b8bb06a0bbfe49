// Several replicas of a worker-type service (no port; health by Docker HEALTHCHECK), replaced one at a
// time: each replica is healthy and through its stability window before the next one is touched, and
// a failure on replica 2 rolls replica 1 back. Then a rollback of all replicas to the first release.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployService } from '../../../src/executor/deploy.js';
import { bindsFixedHostPort } from '../../../src/observe/fixed-port.js';
import { rollbackService } from '../../../src/executor/rollback.js';
import { removeTestContainers, testDocker } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  expectEveryChangeAnnounced,
  type Harness,
  inspect,
  type LogEntry,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
  type StartedContainer,
  startServiceContainer,
} from './exec-harness.js';

const WINDOW_MS = 1_000;
const meta = { requestId: null, approvalId: null, environment: 'staging' };
const service = uniqueName('worker');
let h: Harness;
const ids: Record<string, string> = {};
let replicas: StartedContainer[] = [];

beforeAll(async () => {
  h = makeHarness({ stabilityWindowMs: WINDOW_MS });
  for (const tag of ['1', '2', '3'])
    ids[tag] = (await testDocker().getImage(`helm-test/worker:${tag}`).inspect()).Id;
  replicas = await Promise.all(
    [1, 2, 3].map((i) =>
      startServiceContainer({
        service,
        name: `${service}-${i}`,
        image: 'helm-test/worker:1',
        port: null,
        env: { REPLICA: String(i) },
        labels: { 'ghost.environment': 'staging' },
      }),
    ),
  );
});
afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags([service]);
  if (h) removeHarnessDir(h.memoryDir);
});

function desired(tag: string, replaces: string, next: string) {
  return {
    image: `helm-test/worker:${tag}`,
    image_id: ids[tag]!,
    manifest_digest: null,
    artifact_id: null,
    strategy: 'recreate' as const,
    replaces_release: replaces,
    new_release: next,
  };
}

function announced(log: readonly LogEntry[], step: string, replica: string): LogEntry | undefined {
  return log.find((e) => e.kind === 'announce' && e.step === step && e.detail?.['replica'] === replica);
}

describe('a worker service with 3 replicas', () => {
  it('binds no fixed host port (replicas may run side by side); a host-network web service does', async () => {
    expect(bindsFixedHostPort(await inspect(replicas[0]!.id))).toEqual({
      fixed: false,
      why: 'it listens on no port (a worker)',
    });
    const web = await startServiceContainer({ service: uniqueName('webport'), waitHealthy: false });
    expect(bindsFixedHostPort(await inspect(web.id))).toEqual({
      fixed: true,
      why: `it listens on host port ${web.port} (env PORT) on the host network`,
    });
  });

  it('deploys worker:2 one replica at a time, each healthy and stable before the next is stopped', async () => {
    h.reset();
    const out = await deployService(h.ctx, await resolveService(service), desired('2', 'r1', 'r2'), meta);
    expect(out).toMatchObject({ ok: true, release: { id: 'r2', image_id: ids['2'] } });
    for (const [i, r] of replicas.entries()) {
      const now = await inspect(r.name);
      expect(now.Image).toBe(ids['2']);
      expect(now.State.Running).toBe(true);
      expect(now.Config.Env).toEqual(expect.arrayContaining([`REPLICA=${i + 1}`, 'WORKER_VERSION=2']));
      expect((await inspect(`${r.name}-helm-r1`)).Id).toBe(r.id);
    }
    // Replica n+1 is stopped only after replica n started and passed its health check and window.
    for (const [a, b] of [
      [replicas[0]!.name, replicas[1]!.name],
      [replicas[1]!.name, replicas[2]!.name],
    ] as const) {
      const started = announced(h.log, 'start_new', a)!;
      const nextStop = announced(h.log, 'stop_old', b)!;
      expect(nextStop.at - started.at).toBeGreaterThanOrEqual(WINDOW_MS);
    }
    expect(h.steps().filter((s) => s === 'create_new')).toHaveLength(3);
    expectEveryChangeAnnounced(h.log);
    const r2 = await h.ctx.releases.getRelease(service, 'r2');
    expect(r2?.containers.map((c) => c.name)).toEqual(replicas.map((r) => r.name));
  });

  it('a deploy that fails on replica 2 rolls back replica 1, which was already replaced', async () => {
    h.reset();
    const before = await Promise.all(replicas.map(async (r) => (await inspect(r.name)).Id));
    const out = await deployService(h.ctx, await resolveService(service), desired('3', 'r2', 'r3'), meta);
    expect(out).toMatchObject({
      ok: false,
      code: 'rolled_back',
      data: { failed_release: 'r3', restored_release: 'r2', failed_replica: replicas[1]!.name },
    });
    if (out.ok) throw new Error('unreachable');
    expect(out.data!['reason']).toBe(`${replicas[1]!.name}: it exited with code 2`);
    const logs = out.data!['last_logs'] as Array<{ text: string }>;
    expect(logs.map((l) => l.text)).toContain('worker 3: refusing to run as replica 2');
    // Every replica runs the worker:2 container it ran before; replica 3 was never touched.
    for (const [i, r] of replicas.entries()) {
      const now = await inspect(r.name);
      expect(now.Id).toBe(before[i]);
      expect(now.State.Running).toBe(true);
      expect(now.Image).toBe(ids['2']);
    }
    const r1 = replicas[0]!.name;
    const r2 = replicas[1]!.name;
    expect(
      h.log
        .filter((e) => e.kind === 'announce')
        .map(
          (e) =>
            `${(e as { step: string }).step} ${(e as { detail?: Record<string, unknown> }).detail?.['replica']}`,
        ),
    ).toEqual([
      `stop_old ${r1}`,
      `rename_old ${r1}`,
      `create_new ${r1}`,
      `start_new ${r1}`,
      `stop_old ${r2}`,
      `rename_old ${r2}`,
      `create_new ${r2}`,
      `start_new ${r2}`,
      // undo, newest first
      `remove_new ${r2}`,
      `rename_old_back ${r2}`,
      `start_old ${r2}`,
      `stop_new ${r1}`,
      `remove_new ${r1}`,
      `rename_old_back ${r1}`,
      `start_old ${r1}`,
    ]);
    expectEveryChangeAnnounced(h.log);
    expect((await h.ctx.releases.currentRelease(service))?.id).toBe('r2');
    expect((await h.ctx.releases.listReleases(service)).map((r) => r.id)).toEqual(['r2', 'r1']);
  });

  it('rolls all replicas back to r1 from their kept containers', async () => {
    h.reset();
    const out = await rollbackService(h.ctx, await resolveService(service), 'r1', meta);
    expect(out).toMatchObject({ ok: true, release: { id: 'r1', image_id: ids['1'] } });
    for (const r of replicas) {
      const now = await inspect(r.name);
      expect(now.Id).toBe(r.id);
      expect(now.State.Running).toBe(true);
    }
    expect(h.steps().filter((s) => s === 'start_new')).toHaveLength(3);
    expectEveryChangeAnnounced(h.log);
  });
});
