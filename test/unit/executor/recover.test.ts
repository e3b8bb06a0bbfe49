// Crash recovery (src/executor/recover*.ts) on an in-memory engine: each case sets up what Docker
// would show after a crash at some step, runs recoverOperation, and checks what it changed (every
// change announced first), the result, the release records, and that nothing of the new release is
// ever created again. Also the start-up sweep over orphaned intents, and the test-only fault hook's
// parsing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { systemClock } from '../../../src/base/clock.js';
import type { Plan } from '../../../src/contracts/index.js';
import { DockerNotFoundError } from '../../../src/docker/docker-errors.js';
import type { ContainerCreateOptions, ContainerInspect } from '../../../src/docker/docker-objects.js';
import type { DockerOps } from '../../../src/docker/docker-ports.js';
import type { ExecContext } from '../../../src/executor/exec-context.js';
import { type Intent, makeIntentStore } from '../../../src/intents/intent-store.js';
import type { LeaseManager } from '../../../src/executor/lease.js';
import { recoverOrphanedIntents } from '../../../src/executor/recovery/orphan-sweep.js';
import {
  makeRecovery,
  recoverOperation,
} from '../../../src/executor/recovery/recover-interrupted-operation.js';
import {
  crashStep,
  createdBy,
  replicaNameOf,
  stoppedSince,
} from '../../../src/executor/recovery/interrupted-state.js';
import { recordOf } from '../../../src/executor/release-bookkeeping.js';
import { makeReleaseStore } from '../../../src/releases/release-store.js';
import { crashPointFrom } from '../../helpers/crash-point.js';
import { makeLogger } from '../../../src/log/logger.js';
import { Redactor } from '../../../src/log/redactor.js';
import type { RunLog, RunLogEntryInput } from '../../../src/runlog/index.js';
import { containerInspect } from './fixtures.js';

const V1 = `sha256:${'1'.repeat(64)}`;
const V2 = `sha256:${'2'.repeat(64)}`;
const OLD = 'a'.repeat(64);
const NEW = 'b'.repeat(64);
const T0 = Date.parse('2026-11-29T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

/** An engine in memory: containers by id, the DockerOps calls recorded in order. */
function fakeEngine(initial: ContainerInspect[]) {
  const containers = new Map(initial.map((c) => [c.Id, structuredClone(c)]));
  const calls: string[] = [];
  let n = 0;
  const get = (id: string) => {
    const c = containers.get(id);
    if (!c) throw new DockerNotFoundError(`container ${id}`);
    return c;
  };
  const name = (c: ContainerInspect) => c.Name.replace(/^\//, '');
  const docker = {
    async listContainers() {
      return [...containers.values()].map((c) => ({
        id: c.Id,
        name: name(c),
        image: c.Config.Image,
        imageId: c.Image,
        labels: c.Config.Labels ?? {},
        state: c.State.Running ? 'running' : 'exited',
        status: '',
        createdAt: 0,
      }));
    },
    async inspectContainer(id: string) {
      return structuredClone(get(id));
    },
    async inspectImage(id: string) {
      return { Id: id, Config: { Labels: {} } };
    },
    async findImage(ref: string) {
      return { Id: ref.startsWith('sha256:') ? ref : V1, RepoTags: [], RepoDigests: [] };
    },
    async containerLogs() {
      return { bytes: Buffer.alloc(0), tty: false };
    },
    async startContainer(id: string) {
      calls.push(`start ${name(get(id))}`);
      Object.assign(get(id).State, { Running: true, Status: 'running', StartedAt: iso(Date.now()) });
    },
    async stopContainer(id: string) {
      calls.push(`stop ${name(get(id))}`);
      Object.assign(get(id).State, { Running: false, Status: 'exited', FinishedAt: iso(Date.now()) });
    },
    async restartContainer(id: string) {
      calls.push(`restart ${name(get(id))}`);
    },
    async removeContainer(id: string) {
      calls.push(`remove ${name(get(id))}`);
      containers.delete(id);
    },
    async renameContainer(id: string, to: string) {
      if ([...containers.values()].some((c) => name(c) === to)) throw new Error(`name ${to} is taken`);
      calls.push(`rename ${name(get(id))} → ${to}`);
      get(id).Name = `/${to}`;
    },
    async setRestartPolicy(id: string, policy: { Name: string }) {
      calls.push(`policy ${name(get(id))} ${policy.Name}`);
      get(id).HostConfig.RestartPolicy = policy;
    },
    async tagImage(image: string, repo: string, tag: string) {
      calls.push(`tag ${image.slice(7, 10)} ${repo.split('-')[0]}:${tag}`);
    },
    async createContainer(options: ContainerCreateOptions) {
      n += 1;
      const id = String(n)
        .repeat(64)
        .slice(0, 64)
        .replace(/[^0-9]/g, 'c');
      calls.push(`create ${options.name}`);
      containers.set(
        id,
        containerInspect({
          id,
          name: options.name ?? id,
          image: V1,
          running: false,
          config: { Labels: options.Labels ?? {}, Image: String(options.Image) },
        }),
      );
      return id;
    },
  };
  return { docker: docker as unknown as DockerOps, containers, calls };
}

function context(engine: ReturnType<typeof fakeEngine>, memoryDir: string) {
  const steps: string[] = [];
  const redactor = new Redactor();
  const logger = makeLogger({
    level: 'silent',
    redactor,
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const ctx: ExecContext = {
    docker: engine.docker,
    clock: systemClock,
    logger,
    redactor,
    releases: makeReleaseStore(memoryDir),
    memoryDir,
    stabilityWindowMs: 0,
    healthTimeoutMs: 1000,
    async beforeChange(step) {
      steps.push(step);
      // Every change is announced right before it is made: nothing was called since the last one.
      engine.calls.push(`· ${step}`);
    },
  };
  return { ctx, steps, logger };
}

function web(over: {
  id: string;
  name: string;
  image: string;
  running: boolean;
  labels?: Record<string, string>;
  created?: number;
  finished?: number;
}): ContainerInspect {
  const c = containerInspect({
    id: over.id,
    name: over.name,
    image: over.image,
    running: over.running,
    config: {
      Image: over.image === V2 ? 'helm-test/web:2' : 'helm-test/web:1',
      Labels: { 'ghost.service': 'web', 'ghost.environment': 'dev', ...over.labels },
    },
    hostConfig: { RestartPolicy: { Name: 'no', MaximumRetryCount: 0 } },
  });
  return Object.assign(c, {
    Created: iso(over.created ?? T0 - 3600_000),
    State: {
      ...c.State,
      Status: over.running ? 'running' : 'exited',
      StartedAt: iso(T0 - 3600_000),
      FinishedAt: over.running ? '0001-01-01T00:00:00Z' : iso(over.finished ?? T0 + 1000),
    },
  });
}

const newLabels = (op = 'exec-7', release = 'r2') => ({
  'helm.op': op,
  'helm.release': release,
  'helm.previous': 'r1',
});

function intent(over: Partial<Intent> = {}): Intent {
  return {
    op: 'exec-7',
    service: 'web',
    action: 'deploy',
    job_id: '7',
    approval_id: null,
    plan_hash: 'f'.repeat(64),
    from_release: 'r1',
    to_release: 'r2',
    step: 'start_new',
    at: iso(T0 + 1500),
    ...over,
  };
}

/** The release r1 recorded for the old container, as a deploy records what it replaces. */
async function recordR1(ctx: ExecContext, old: ContainerInspect, environment = 'dev') {
  const record = recordOf(ctx, {
    id: 'r1',
    service: 'web',
    image: 'helm-test/web:1',
    infos: [old],
    manifestDigest: null,
    artifactId: null,
    meta: { requestId: null, approvalId: null, environment, opId: 'exec-3' },
    adopted: false,
    previous: null,
  });
  await ctx.releases.saveRelease(record, { current: true });
  return record;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'helm-recover-unit-'));
const started = { plan: null, startedAt: new Date(T0) };

describe('recoverOperation: deploy', () => {
  it('after creating the new container: removes it, puts the old one back under its name, starts it', async () => {
    const old = web({ id: OLD, name: 'web', image: V1, running: true });
    const engine = fakeEngine([]);
    const { ctx, steps } = context(engine, tmp());
    await recordR1(ctx, old);
    engine.containers.set(OLD, { ...web({ id: OLD, name: 'web-helm-r1', image: V1, running: false }) });
    engine.containers.set(
      NEW,
      web({ id: NEW, name: 'web', image: V2, running: false, labels: newLabels(), created: T0 + 1200 }),
    );
    const r = await recoverOperation(ctx, intent(), started);
    expect(r).toMatchObject({ ok: false, code: 'rolled_back' });
    expect(!r.ok && r.message).toContain('recovered after a crash at step start_new');
    expect(!r.ok && r.message).toContain('r1 runs and is healthy');
    expect(engine.calls).toEqual([
      '· remove_new',
      'remove web',
      '· rename_old_back',
      'rename web-helm-r1 → web',
      '· start_old',
      'start web',
    ]);
    expect(steps).not.toContain('create_new');
    expect((await ctx.releases.currentRelease('web'))?.id).toBe('r1');
  });

  it('with the new release running: runs its gate again and records it as executed', async () => {
    const old = web({ id: OLD, name: 'web', image: V1, running: true });
    const engine = fakeEngine([]);
    const { ctx } = context(engine, tmp());
    await recordR1(ctx, old);
    engine.containers.set(OLD, web({ id: OLD, name: 'web-helm-r1', image: V1, running: false }));
    engine.containers.set(
      NEW,
      web({ id: NEW, name: 'web', image: V2, running: true, labels: newLabels(), created: T0 + 1200 }),
    );
    const r = await recoverOperation(ctx, intent(), started);
    expect(r).toMatchObject({ ok: true, release: { id: 'r2', image_id: V2 } });
    expect(r.ok && r.outcome).toMatch(
      /^recovered after a crash at step start_new: r2 healthy, recorded as executed/,
    );
    expect(engine.calls).toEqual(['· tag_release_image', 'tag 222 helm:r2']);
    const current = await ctx.releases.currentRelease('web');
    expect(current).toMatchObject({ id: 'r2', previous: 'r1', op_id: 'exec-7' });
    expect(current?.containers.map((c) => c.id)).toEqual([NEW]);
  });

  it('at an undo step the operation had already judged the new release failed: it finishes the undo', async () => {
    const old = web({ id: OLD, name: 'web', image: V1, running: true });
    const engine = fakeEngine([]);
    const { ctx } = context(engine, tmp());
    await recordR1(ctx, old);
    engine.containers.set(OLD, web({ id: OLD, name: 'web-helm-r1', image: V1, running: false }));
    engine.containers.set(
      NEW,
      web({ id: NEW, name: 'web', image: V2, running: true, labels: newLabels(), created: T0 + 1200 }),
    );
    const r = await recoverOperation(ctx, intent({ step: 'stop_new' }), started);
    expect(r).toMatchObject({ ok: false, code: 'rolled_back' });
    expect(engine.calls.filter((c) => !c.startsWith('·'))).toEqual([
      'stop web',
      'remove web',
      'rename web-helm-r1 → web',
      'start web',
    ]);
  });

  it('before any change (its job gone, so nothing to resume): changes nothing and says so (unavailable), whatever else carries the same op id', async () => {
    // A container of an earlier deploy whose exec job had the same id (Redis gave it out again):
    // same helm.op, another release, created long before. It is what runs: never "new".
    const old = web({
      id: OLD,
      name: 'web',
      image: V1,
      running: true,
      labels: { 'helm.op': 'exec-7', 'helm.release': 'r1' },
    });
    const engine = fakeEngine([old]);
    const { ctx } = context(engine, tmp());
    await recordR1(ctx, old);
    const r = await recoverOperation(ctx, intent({ step: 'start' }), started);
    expect(r).toMatchObject({ ok: false, code: 'unavailable' });
    expect(!r.ok && r.message).toContain('Helm had not changed anything yet');
    expect(engine.calls).toEqual([]);
    expect(engine.containers.has(OLD)).toBe(true);
  });

  it('an old container that was already stopped before the deploy stays stopped', async () => {
    const old = web({ id: OLD, name: 'web', image: V1, running: false, finished: T0 - 60_000 });
    const engine = fakeEngine([]);
    const { ctx } = context(engine, tmp());
    await recordR1(ctx, old);
    engine.containers.set(
      OLD,
      web({ id: OLD, name: 'web-helm-r1', image: V1, running: false, finished: T0 - 60_000 }),
    );
    const r = await recoverOperation(ctx, intent({ step: 'create_new' }), started);
    expect(r).toMatchObject({ ok: false, code: 'rolled_back' });
    expect(!r.ok && r.message).toContain('stopped as it was before');
    expect(engine.calls.filter((c) => !c.startsWith('·'))).toEqual(['rename web-helm-r1 → web']);
  });

  it('an old container that is gone is created again from its record (never the new release)', async () => {
    const old = web({ id: OLD, name: 'web', image: V1, running: true });
    const engine = fakeEngine([]);
    const { ctx } = context(engine, tmp());
    await recordR1(ctx, old);
    const r = await recoverOperation(ctx, intent({ step: 'create_new' }), started);
    expect(r).toMatchObject({ ok: false, code: 'rolled_back' });
    expect(engine.calls.filter((c) => !c.startsWith('·'))).toEqual(['create web', 'start web']);
    const made = [...engine.containers.values()][0]!;
    expect(made.Config.Labels).toMatchObject({ 'helm.op': 'exec-7.restore', 'helm.release': 'r1' });
  });

  it('production without the plan or a record of its release: removes only what the op made, restores nothing else', async () => {
    const engine = fakeEngine([
      web({
        id: OLD,
        name: 'web-helm-r9',
        image: V1,
        running: false,
        labels: { 'ghost.environment': 'production' },
      }),
      web({
        id: NEW,
        name: 'web',
        image: V2,
        running: false,
        labels: { ...newLabels(), 'ghost.environment': 'production' },
        created: T0 + 1200,
      }),
    ]);
    const { ctx } = context(engine, tmp());
    const r = await recoverOperation(ctx, intent({ from_release: 'r1' }), started);
    expect(r).toMatchObject({ ok: false, code: 'rollback_failed' });
    expect(!r.ok && r.message).toContain('Helm restores nothing else');
    expect(engine.calls.filter((c) => !c.startsWith('·'))).toEqual(['remove web']);
  });

  it('production with the signed plan: restores exactly the plan’s containers', async () => {
    const prodLabels = { 'ghost.environment': 'production' };
    const engine = fakeEngine([
      web({ id: OLD, name: 'web-helm-r1', image: V1, running: false, labels: prodLabels }),
      web({
        id: NEW,
        name: 'web',
        image: V2,
        running: false,
        labels: { ...newLabels(), ...prodLabels },
        created: T0 + 1200,
      }),
    ]);
    const { ctx } = context(engine, tmp());
    const plan = {
      action: 'deploy',
      environment: 'production',
      request_id: null,
      preconditions: { containers: [{ id: OLD, image_id: V1, config_hmac: '0'.repeat(64) }] },
      desired: { image: 'helm-test/web:2', image_id: V2, manifest_digest: null, artifact_id: null },
    } as unknown as Plan;
    const r = await recoverOperation(ctx, intent(), { plan, startedAt: new Date(T0) });
    expect(r).toMatchObject({ ok: false, code: 'rolled_back' });
    expect(engine.calls.filter((c) => !c.startsWith('·'))).toEqual([
      'remove web',
      'rename web-helm-r1 → web',
      'start web',
    ]);
  });
});

describe('recoverOperation: restart and stop', () => {
  it('restart: a container left stopped is started, and the outcome says what was restarted', async () => {
    const engine = fakeEngine([web({ id: OLD, name: 'web', image: V1, running: false })]);
    const { ctx } = context(engine, tmp());
    const r = await recoverOperation(ctx, intent({ action: 'restart', step: 'restart' }), started);
    expect(r).toMatchObject({ ok: true });
    expect(r.ok && r.outcome).toContain('started by recovery');
    expect(engine.calls).toEqual(['· start_container', 'start web']);
  });

  it('restart: a container not restarted since the op began is restarted now, once (the restart is completed)', async () => {
    const engine = fakeEngine([web({ id: OLD, name: 'web', image: V1, running: true })]);
    const { ctx } = context(engine, tmp());
    const r = await recoverOperation(ctx, intent({ action: 'restart', step: 'restart' }), started);
    expect(r).toMatchObject({ ok: true });
    expect(r.ok && r.outcome).toContain('web restarted by recovery');
    expect(engine.calls).toEqual(['· restart', 'restart web']);
  });

  it('stop: finishes the stop', async () => {
    const engine = fakeEngine([web({ id: OLD, name: 'web', image: V1, running: true })]);
    const { ctx } = context(engine, tmp());
    const r = await recoverOperation(ctx, intent({ action: 'stop', step: 'stop' }), started);
    expect(r).toMatchObject({ ok: true });
    expect(engine.calls).toEqual(['· stop_container', 'stop web']);
  });
});

describe('the start-up sweep', () => {
  it('recovers intents whose exec job is gone or ended, leaves the others to their job', async () => {
    const memoryDir = tmp();
    const old = web({ id: OLD, name: 'web', image: V1, running: true });
    const engine = fakeEngine([old]);
    const { ctx, logger } = context(engine, memoryDir);
    await recordR1(ctx, old);
    const intents = makeIntentStore(memoryDir);
    await intents.write(intent({ op: 'exec-gone', step: 'stop_old' }));
    await intents.write(intent({ op: 'exec-alive', service: 'other', step: 'stop_old' }));
    const entries: RunLogEntryInput[] = [];
    const runLog = { append: async (e: RunLogEntryInput) => entries.push(e) } as unknown as RunLog;
    const leased: string[] = [];
    const leases: LeaseManager = {
      async tryAcquire(service, jobId) {
        leased.push(`${service} ${jobId}`);
        return { token: 't', check: async () => undefined, release: async () => undefined };
      },
    };
    const sweep = recoverOrphanedIntents({
      recovery: makeRecovery({ ...ctx }),
      intents,
      execQueue: {
        getJob: async (id) =>
          (id === 'exec-alive' ? { getState: async () => 'active', timestamp: T0 } : undefined) as never,
      },
      leases,
      runLog,
      internalKey: Buffer.alloc(32),
      host: 'local',
      logger,
      clock: systemClock,
      timeoutMs: 10_000,
    });
    const done = await sweep.done;
    expect(done.map((d) => d.op)).toEqual(['exec-gone']);
    expect(leased).toEqual(['local/web exec-gone']);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ event: 'recovered', job_id: '7', action: 'deploy', target: 'web' });
    expect(entries[0]!.message).toContain('crash at step stop_old');
    expect((await intents.list()).map((i) => i.op)).toEqual(['exec-alive']);
  });
});

describe('small parts', () => {
  it('the fault hook is inert unless HELM_TEST_CRASH_AT_STEP is set', () => {
    expect(crashPointFrom({})).toBeNull();
    expect(crashPointFrom({ HELM_TEST_CRASH_AT_STEP: ' ' })).toBeNull();
    expect(crashPointFrom({ HELM_TEST_CRASH_AT_STEP: 'start_new', HELM_TEST_CRASH_DELAY_MS: '700' })).toEqual(
      {
        step: 'start_new',
        occurrence: 1,
        delayMs: 700,
      },
    );
    expect(crashPointFrom({ HELM_TEST_CRASH_AT_STEP: 'x', HELM_TEST_CRASH_OCCURRENCE: '0' })).toMatchObject({
      occurrence: 1,
    });
  });

  it('replica names from kept names, the crash step, and what the op made or stopped', () => {
    const kept = web({ id: OLD, name: 'web-helm-r3', image: V1, running: false });
    expect(replicaNameOf(kept)).toBe('web');
    expect(
      replicaNameOf(web({ id: OLD, name: `web-${OLD.slice(0, 8)}-helm-r3`, image: V1, running: false })),
    ).toBe('web');
    expect(crashStep({ ...intent(), step: 'recover_remove_new', recovering_from: 'start_new' })).toBe(
      'start_new',
    );
    expect(stoppedSince(kept, new Date(T0))).toBe(true);
    expect(
      stoppedSince(web({ id: OLD, name: 'w', image: V1, running: false, finished: T0 - 5000 }), new Date(T0)),
    ).toBe(false);
    const made = web({
      id: NEW,
      name: 'web',
      image: V2,
      running: true,
      labels: newLabels(),
      created: T0 + 10,
    });
    expect(createdBy(made, intent(), new Date(T0))).toBe(true);
    expect(createdBy(made, intent({ to_release: 'r5' }), new Date(T0))).toBe(false);
    expect(createdBy(made, intent(), new Date(T0 + 60_000))).toBe(false);
  });
});
