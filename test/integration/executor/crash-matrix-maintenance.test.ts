// kill -9 of the executor at the steps of scale (1→3, 3→1), remove (with and without archive, and
// without volumes), set_env, restart and stop (2 replicas) and a 3-replica deploy, then a new Helm
// process (issue 14,
// "Crash matrices"): as crash-matrix.test.ts does for deploy, Helm runs as a real child process on a
// redis-server of its own; the request goes through the bus and the test-only fault hook
// (test/helpers/crash-point.ts) makes the process SIGKILL itself right after the write-ahead intent
// recorded a step (before that step's Docker change; with a delay, in the middle of what follows).
// A new Helm process is started on the same Redis and memory folder; the exec job comes back and is
// recovered (src/executor/recovery/). Every case must end with exactly the intended containers (no
// duplicates, no half-made replica left), the request's final result, one `recovered` run-log entry,
// no intent left, and a run log that verifies.
//
// Cost (2 cores): each case is a Helm start, a kill and a second start (~15-20 s, cases run side by
// side). The default suite runs one case per operation; HELM_TEST_FULL_CRASH_MATRIX=1 runs every step
// (~6 min), HELM_TEST_CRASH_MATRIX_ONLY=<text> only the cases whose label contains it.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELM_LABEL } from '../../../src/docker/helm-labels.js';
import { keptRelease } from '../../../src/docker/kept-containers.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import {
  type CrashRig,
  finalResultOf,
  intentFiles,
  runLogProblems,
  SHORT_CRASH_INTERVALS,
  startCrashRig,
} from '../../helpers/crash-rig.js';
import { removeTestContainers, testDocker, testLabels } from '../../helpers/docker.js';
import { makeTestWarden, waitForStatus } from '../../helpers/warden.js';
import { removeReleaseTags, startServiceContainer, waitDockerHealthy } from './exec-harness.js';
import { removeVolumes, volumeExists } from './volume-service.js';

const warden = makeTestWarden();
const rigs: CrashRig[] = [];
const FULL = process.env['HELM_TEST_FULL_CRASH_MATRIX'] === '1';
/** Only the cases whose label contains this (e.g. "deploy ×3"), to rerun a few. */
const ONLY = process.env['HELM_TEST_CRASH_MATRIX_ONLY'] ?? '';

const allVolumes: string[] = [];
/** Services whose releases Helm tagged (deploy, set_env): their tags go after the test. */
const services: string[] = [];

afterAll(async () => {
  for (const rig of rigs) await rig.close().catch(() => undefined);
  await removeTestContainers();
  await removeVolumes(allVolumes);
  await removeReleaseTags(services);
});

const SHORT = SHORT_CRASH_INTERVALS;

interface Case {
  label: string;
  /** In the default suite (one per operation); the others run with HELM_TEST_FULL_CRASH_MATRIX=1. */
  always?: boolean;
  action: 'scale' | 'remove' | 'set_env' | 'deploy' | 'restart' | 'stop';
  params: Record<string, unknown>;
  /** Replicas (worker containers) the service runs before the request. */
  before: number;
  /** Each replica mounts a named volume of its own (remove). */
  withVolumes?: boolean;
  step: string;
  /** Needs Warden's approval (scale down: always). */
  approved?: boolean;
  occurrence?: number;
  delayMs?: number;
  expect: {
    status: 'executed' | 'failed';
    code?: string;
    /** set_env: kept containers of the release before, and whether the active ones run the new environment. */
    kept?: number;
    env?: 'new' | 'old';
    /** deploy: the image every active container runs. */
    image?: string;
    /** restart: every active container was started after the request was sent. */
    restarted?: boolean;
    /** Active containers after recovery, and how many of them run. */
    active: number;
    running: number;
    resumes?: boolean;
    /** withVolumes: how many of the replicas' volumes are left, and how many archives were written. */
    volumesLeft?: number;
    archives?: number;
  };
}

const CASES: Case[] = [
  // scale up 1 → 3
  ...(
    [
      ['intent written', 'start', 1, 0, true],
      ['before creating the first copy', 'create_replica', 1, 0, false],
      ['first copy created, not started', 'start_replica', 1, 0, true],
      ['second copy created, first healthy', 'start_replica', 2, 0, false],
      ['during the first copy’s health check', 'start_replica', 1, 600, false],
    ] as const
  ).map(
    ([label, step, occurrence, delayMs, always]): Case => ({
      label: `scale 1→3: ${label}`,
      always,
      action: 'scale',
      params: { replicas: 3 },
      before: 1,
      step,
      occurrence,
      delayMs,
      expect: { status: 'executed', active: 3, running: 3, resumes: step === 'start' },
    }),
  ),
  // scale down 3 → 1
  ...(
    [
      ['intent written (approved: resumes under its approval)', 'start', 1, 0, false],
      ['before stopping the newest', 'stop_replica', 1, 0, false],
      ['newest stopped, not removed', 'remove_replica', 1, 0, true],
      ['newest removed, second stopped', 'remove_replica', 2, 0, false],
      ['newest removed, before stopping the second', 'stop_replica', 2, 0, false],
    ] as const
  ).map(
    ([label, step, occurrence, delayMs, always]): Case => ({
      label: `scale 3→1: ${label}`,
      always,
      action: 'scale',
      params: { replicas: 1 },
      approved: true,
      before: 3,
      step,
      occurrence,
      delayMs,
      expect: { status: 'executed', active: 1, running: 1, resumes: step === 'start' },
    }),
  ),
  // remove of 2 replicas, each with a volume of its own
  ...(
    [
      ['with archive: replica 1 and its volume’s holder gone', 'remove_container', 2, true, true, true],
      ['with archive: before removing the first container', 'remove_container', 1, true, true, false],
      ['with archive: stopping the second', 'stop_for_remove', 2, true, true, false],
      ['without archive: first volume next', 'remove_volume', 1, true, false, true],
      ['volumes kept: second container next', 'remove_container', 2, false, false, false],
    ] as const
  ).map(
    ([label, step, occurrence, volumes, archive, always]): Case => ({
      label: `remove (${volumes ? 'volumes' : 'no volumes'}) ${label}`,
      always,
      action: 'remove',
      params: { volumes, archive },
      // Deleting volume data without an archive needs Warden's approval everywhere.
      approved: volumes && !archive,
      before: 2,
      withVolumes: true,
      step,
      occurrence,
      expect: {
        status: 'executed',
        active: 0,
        running: 0,
        volumesLeft: volumes ? 0 : 2,
        archives: volumes && archive ? 2 : 0,
      },
    }),
  ),
  // set_env on 2 replicas: completed once recorded, else undone; nothing changed: resumed
  ...(
    [
      ['before stopping replica 1', 'stop_old', 1, 0, true, 'executed'],
      ['replica 1 created, not started', 'start_new', 1, 0, true, 'rolled_back'],
      ['during replica 1’s health check', 'start_new', 1, 600, false, 'rolled_back'],
      ['replica 1 switched, before stopping replica 2', 'stop_old', 2, 0, false, 'rolled_back'],
      ['replica 2 old one stopped', 'rename_old', 2, 0, false, 'rolled_back'],
    ] as const
  ).map(
    ([label, step, occurrence, delayMs, always, ends]): Case => ({
      label: `set_env ×2: ${label}`,
      always,
      action: 'set_env',
      params: { set: { CRASH_FLAG: 'on' } },
      before: 2,
      step,
      occurrence,
      delayMs,
      expect:
        ends === 'executed'
          ? { status: 'executed', active: 2, running: 2, kept: 2, env: 'new', resumes: true }
          : { status: 'failed', code: 'rolled_back', active: 2, running: 2, kept: 0, env: 'old' },
    }),
  ),
  // restart and stop of 2 replicas, one at a time: replica 1 done, replica 2 not reached
  {
    label: 'restart ×2: replica 1 restarted, replica 2 next',
    always: true,
    action: 'restart',
    params: {},
    before: 2,
    step: 'restart',
    occurrence: 2,
    expect: { status: 'executed', active: 2, running: 2, restarted: true },
  },
  {
    label: 'stop ×2: replica 1 stopped, replica 2 next',
    action: 'stop',
    params: {},
    before: 2,
    step: 'stop',
    occurrence: 2,
    expect: { status: 'executed', active: 2, running: 0 },
  },
  // deploy of 3 replicas, worker:1 → worker:2, one replica at a time
  ...(
    [
      // (resuming a deploy is in the default suite of crash-matrix.test.ts)
      ['before stopping replica 1', 'stop_old', 1, 0, false, 'executed'],
      ['replica 1 switched, replica 2 created', 'start_new', 2, 0, true, 'rolled_back'],
      ['replica 2 old one stopped', 'rename_old', 2, 0, false, 'rolled_back'],
      ['during replica 3’s health check', 'start_new', 3, 600, false, 'executed'],
    ] as const
  ).map(
    ([label, step, occurrence, delayMs, always, ends]): Case => ({
      label: `deploy ×3: ${label}`,
      always,
      action: 'deploy',
      params: { image: 'helm-test/worker:2' },
      before: 3,
      step,
      occurrence,
      delayMs,
      expect:
        ends === 'executed'
          ? {
              status: 'executed',
              active: 3,
              running: 3,
              kept: 3,
              image: 'helm-test/worker:2',
              resumes: step === 'stop_old',
            }
          : {
              status: 'failed',
              code: 'rolled_back',
              active: 3,
              running: 3,
              kept: 0,
              image: 'helm-test/worker:1',
            },
    }),
  ),
];

interface Seen {
  id: string;
  name: string;
  state: string;
  kept: boolean;
  op: string | null;
}

async function containersOf(service: string): Promise<Seen[]> {
  const list = await testDocker().listContainers({
    all: true,
    filters: { label: [`ghost.service=${service}`] },
  });
  return list.map((c) => {
    const name = (c.Names[0] ?? '').replace(/^\//, '');
    return {
      id: c.Id,
      name,
      state: c.State,
      kept: keptRelease(name) !== null,
      op: c.Labels[HELM_LABEL.op] ?? null,
    };
  });
}

/** The service's replicas, started one after another (replica 1 is the oldest); their volumes, if any. */
async function startReplicas(r: CrashRig, service: string, c: Case): Promise<string[]> {
  const volumes: string[] = [];
  for (let i = 1; i <= c.before; i += 1) {
    const name = i === 1 ? service : `${service}-${i}`;
    if (!c.withVolumes) {
      await startServiceContainer({
        service,
        name,
        image: 'helm-test/worker:1',
        port: null,
        labels: { 'ghost.environment': 'dev', ...r.scopeLabel },
        restartPolicy: 'always',
      });
      continue;
    }
    const volume = `${name}-data`;
    volumes.push(volume);
    const made = await testDocker().createContainer({
      name,
      Image: 'helm-test/worker:1',
      Cmd: ['/bin/sh', '-c', `echo ${i} > /data/n; touch /tmp/ready; while true; do sleep 1; done`],
      Labels: testLabels({ 'ghost.service': service, 'ghost.environment': 'dev', ...r.scopeLabel }),
      HostConfig: {
        NetworkMode: 'host',
        Init: true,
        Mounts: [{ Type: 'volume', Source: volume, Target: '/data' }],
      },
    });
    await made.start();
    await waitDockerHealthy(made.id);
  }
  return volumes;
}

/** Archive files Helm wrote for the service (never deleted: they are the owner's). */
async function archivesOf(memoryDir: string, service: string): Promise<string[]> {
  return (await readdir(path.join(memoryDir, 'archives', service)).catch(() => [] as string[])).filter(
    (f) => !f.startsWith('.'),
  );
}

async function runCase(c: Case): Promise<string> {
  const r = await startCrashRig({ wardenPublicPem: warden.publicPem, env: SHORT });
  rigs.push(r);
  const service = uniqueName('crash-mt');
  services.push(service);
  const volumes = await startReplicas(r, service, c);
  allVolumes.push(...volumes);
  const first = await r.startHelm({
    HELM_TEST_CRASH_AT_STEP: c.step,
    ...(c.occurrence ? { HELM_TEST_CRASH_OCCURRENCE: String(c.occurrence) } : {}),
    ...(c.delayMs ? { HELM_TEST_CRASH_DELAY_MS: String(c.delayMs) } : {}),
  });
  // A deploy names the image id it verified.
  const params =
    c.action === 'deploy'
      ? { ...c.params, image_id: (await testDocker().getImage(String(c.params['image'])).inspect()).Id }
      : c.params;
  const job = await r.bus.send({
    action: c.action,
    target: service,
    environment: 'dev',
    reason: `crash matrix: ${c.label}`,
    params,
  });
  const jobId = String(job.id);
  const sentAt = Date.now();
  if (c.approved) {
    // Warden approves (a scale down always needs it): recovery must honour that approval's binding.
    const pending = await waitForStatus(r.bus.actions, job, 'pending_approval');
    await warden.decide(r.approvals, await r.approvalRequest(String(pending.approval_id)), 'approved');
  }
  await waitFor(
    async () => {
      const done = await r.bus.actions.getJob(jobId);
      if ((await done?.getState()) === 'completed')
        throw new Error(
          `${c.label}: the request ended before the crash: ${JSON.stringify(done!.returnvalue)}`,
        );
      return first.child.signalCode === 'SIGKILL' || first.child.exitCode !== null;
    },
    `Helm to kill itself at ${c.step}`,
    60_000,
  );
  expect(first.child.signalCode, first.output()).toBe('SIGKILL');
  expect((await intentFiles(r.memoryDir)).map((i) => i.step)).toEqual([c.step]);
  const atKill = (await containersOf(service)).map((x) => `${x.op ? 'new' : 'old'} ${x.state}`).sort();

  await r.startHelm();
  const result = await finalResultOf(r, jobId, 90_000);
  await waitFor(
    async () => (await r.runLog()).some((e) => e.event === 'recovered' && e.job_id === jobId),
    'the recovered run-log entry',
  );
  const log = await r.runLog();
  const recovered = log.filter((e) => e.event === 'recovered' && e.job_id === jobId);
  const where = `${c.label}: ${JSON.stringify(result)}\n${recovered.map((e) => e.message).join('\n')}`;
  expect(result.status, where).toBe(c.expect.status);
  expect(recovered, where).toHaveLength(1);
  expect(recovered[0]!.message).toMatch(c.expect.resumes ? /the request resumes/ : /recovered after a crash/);
  expect(log.filter((e) => e.event === 'executing' && e.job_id === jobId)).toHaveLength(1);
  expect(await runLogProblems(r.memoryDir)).toEqual([]);

  // Exactly the intended containers: no duplicate name, no half-made replica, the right count running.
  const after = await containersOf(service);
  const active = after.filter((x) => !x.kept);
  expect(new Set(active.map((x) => x.name)).size, JSON.stringify(after)).toBe(active.length);
  expect(active, JSON.stringify(after)).toHaveLength(c.expect.active);
  expect(
    active.filter((x) => x.state === 'running'),
    JSON.stringify(after),
  ).toHaveLength(c.expect.running);
  for (const x of active.filter((a) => a.state === 'running'))
    await waitFor(
      async () => (await testDocker().getContainer(x.id).inspect()).State.Health?.Status === 'healthy',
      `${x.name} to be healthy`,
    );
  await waitFor(async () => (await intentFiles(r.memoryDir)).length === 0, 'no intent left');
  if (c.expect.code) expect(result.error?.code, where).toBe(c.expect.code);
  // No orphan: kept containers only where a release was switched (its previous release, kept for rollback).
  expect(
    after.filter((x) => x.kept),
    JSON.stringify(after),
  ).toHaveLength(c.expect.kept ?? 0);
  for (const x of active) {
    const { Config: config, State: state } = await testDocker().getContainer(x.id).inspect();
    if (c.expect.restarted)
      expect(Date.parse(state.StartedAt), `${x.name}: ${where}`).toBeGreaterThan(sentAt - 1000);
    if (c.expect.env)
      expect((config.Env ?? []).includes('CRASH_FLAG=on'), `${x.name}: ${where}`).toBe(
        c.expect.env === 'new',
      );
    if (c.expect.image) expect(config.Image, `${x.name}: ${where}`).toBe(c.expect.image);
  }
  if (c.withVolumes) {
    const left = [];
    for (const v of volumes) if (await volumeExists(v)) left.push(v);
    expect(left, where).toHaveLength(c.expect.volumesLeft ?? 0);
    // One archive per volume (a second of the same stopped data would be harmless, but none is lost).
    const archives = await archivesOf(r.memoryDir, service);
    for (const v of c.expect.archives ? volumes : [])
      expect(
        archives.some((a) => a.includes(v)),
        `${v}: ${archives}`,
      ).toBe(true);
    if (!c.expect.archives) expect(archives).toEqual([]);
  }
  return `${c.label.padEnd(58)} at kill: ${atKill.join(', ').padEnd(40)} → ${result.status}${result.error ? ` ${result.error.code}` : ''}`;
}

describe('kill -9 of the executor at the steps of scale, remove, set_env and a 3-replica deploy, then a restart', () => {
  const cases = CASES.filter((c) => (FULL || c.always) && c.label.includes(ONLY));
  it(
    `${cases.length} cases${FULL ? ' (full matrix)' : ' (one per step kind; HELM_TEST_FULL_CRASH_MATRIX=1 for all)'}: exactly the intended containers, a final result, one recovered entry, a verifying run log`,
    async () => {
      const rows: string[] = [];
      // Two at a time: each case is two Helm processes and a Redis; the bed has two cores.
      for (let i = 0; i < cases.length; i += 2)
        rows.push(...(await Promise.all(cases.slice(i, i + 2).map((c) => runCase(c)))));
      console.log(`[crash-matrix-maintenance]\n${rows.join('\n')}`);
    },
    60_000 * (2 + cases.length),
  );
});
