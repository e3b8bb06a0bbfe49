// kill -9 of the executor at each step of a deploy, then a restart (issue 4, "Done when"): Helm runs
// as a real child process on a redis-server of its own; a deploy of web:1 → web:2 goes through the
// bus, and the test-only fault hook (test/helpers/crash-point.ts, installed by helm-crash-entry.ts
// when HELM_TEST_CRASH_AT_STEP is set) makes the process SIGKILL itself right after the write-ahead
// intent recorded a step: after the
// intent (`start`), after stopping the old container (`rename_old`: stopped, not yet renamed), after
// creating the new one (`start_new`: created, not started), and during the health check (`start_new`
// + 700 ms: started, its health gate running). A new Helm process is started on the same Redis and
// memory folder; the exec job comes back (BullMQ's stalled check, short lock and stall intervals)
// and is recovered (src/executor/recovery/) instead of run again. Every case must end with exactly
// one healthy release serving, no duplicate active containers, the request's final result, and the
// outcome in the run log. Also: a production case (the approval has expired by the time recovery
// runs: expiry gates the start only), and the start-up sweep for an intent whose exec job Redis lost.
// The matrix is printed.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HELM_LABEL } from '../../../src/docker/helm-labels.js';
import { keptRelease } from '../../../src/docker/kept-containers.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import {
  type CrashRig,
  finalResultOf,
  intentFiles,
  type RigResult,
  SHORT_CRASH_INTERVALS,
  type RigHelm,
  runLogProblems,
  startCrashRig,
} from '../../helpers/crash-rig.js';
import { removeTestContainers, startWebService, testDocker, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import { mapWithLimit } from '../../helpers/pool.js';
import { makeTestWarden, waitForStatus } from '../../helpers/warden.js';
import { removeReleaseTags } from './exec-harness.js';

const warden = makeTestWarden();
const rigs: CrashRig[] = [];
const services: string[] = [];

afterAll(async () => {
  for (const rig of rigs) await rig.close().catch(() => undefined);
  await removeTestContainers();
  await removeReleaseTags(services);
});

const SHORT = SHORT_CRASH_INTERVALS;

interface Case {
  label: string;
  step: string;
  delayMs?: number;
  environment: 'dev' | 'production';
  /** Redis loses the exec job while Helm is down: only the start-up sweep can recover it. */
  loseJob?: boolean;
  /** Nothing had changed at the kill: the request resumes. */
  resumes?: boolean;
  /** Production: the approval (6 s) expires before the new Helm starts (expiry gates the start only). */
  expireBeforeRestart?: boolean;
  expect: { version: 1 | 2; status: 'executed' | 'failed' | null; code?: string };
}

const CASES: Case[] = [
  {
    // Nothing changed: the request resumes (issue 14) instead of failing.
    label: 'after the intent',
    step: 'start',
    environment: 'dev',
    resumes: true,
    expect: { version: 2, status: 'executed' },
  },
  {
    // Recorded, not yet made: the old container still runs, so the request resumes.
    label: 'before stopping the old container',
    step: 'stop_old',
    environment: 'dev',
    resumes: true,
    expect: { version: 2, status: 'executed' },
  },
  {
    label: 'after stopping the old container',
    step: 'rename_old',
    environment: 'dev',
    expect: { version: 1, status: 'failed', code: 'rolled_back' },
  },
  {
    label: 'after creating the new one',
    step: 'start_new',
    environment: 'dev',
    expect: { version: 1, status: 'failed', code: 'rolled_back' },
  },
  {
    label: 'during the health check',
    step: 'start_new',
    delayMs: 700,
    environment: 'dev',
    expect: { version: 2, status: 'executed' },
  },
  {
    label: 'production, after creating the new one',
    step: 'start_new',
    environment: 'production',
    expireBeforeRestart: true,
    expect: { version: 1, status: 'failed', code: 'rolled_back' },
  },
  {
    // Nothing changed, still approved for this very plan: it resumes under the same approval.
    label: 'production, before stopping the old container',
    step: 'stop_old',
    environment: 'production',
    resumes: true,
    expect: { version: 2, status: 'executed' },
  },
  {
    label: 'after stopping the old one; Redis lost the job',
    step: 'rename_old',
    environment: 'dev',
    loseJob: true,
    expect: { version: 1, status: null },
  },
];

interface Row {
  label: string;
  step: string;
  atKill: string;
  outcome: string;
  serving: string;
  killMs: number;
  upMs: number;
  recoverMs: number;
  totalMs: number;
  message: string;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The service's containers as Docker shows them (kept ones included). */
async function containersOf(service: string) {
  const list = await testDocker().listContainers({
    all: true,
    filters: { label: [`ghost.service=${service}`] },
  });
  return list.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    image: c.Image,
    state: c.State,
    op: c.Labels[HELM_LABEL.op] ?? null,
    kept: keptRelease((c.Names[0] ?? '').replace(/^\//, '')) !== null,
  }));
}

function describeContainers(cs: Awaited<ReturnType<typeof containersOf>>): string {
  // old: the container Helm found; old→kept: renamed to <name>-helm-rN; new: made by this deploy.
  return cs
    .map((c) => `${c.kept ? 'old→kept' : c.op ? 'new' : 'old'} ${c.state}`)
    .sort()
    .join(', ');
}

/** The service's current release record (id and image id), from Helm's release file; null: none. */
async function currentRelease(
  memoryDir: string,
  service: string,
): Promise<{ id: string; image_id: string } | null> {
  try {
    const file = JSON.parse(await readFile(path.join(memoryDir, 'releases', `${service}.json`), 'utf8')) as {
      current: string | null;
      releases: Array<{ id: string; image_id: string }>;
    };
    return file.releases.find((r) => r.id === file.current) ?? null;
  } catch {
    return null;
  }
}

async function runCase(c: Case): Promise<Row> {
  const r = await startCrashRig({
    wardenPublicPem: warden.publicPem,
    // Production: a skew of 0 lets the approval expire (6 s) before recovery runs.
    env: { ...SHORT, ...(c.expireBeforeRestart ? { HELM_CLOCK_SKEW_S: '0' } : {}) },
  });
  rigs.push(r);
  const service = uniqueName('crash-mx');
  services.push(service);
  const web = await startWebService({
    labels: { 'ghost.service': service, 'ghost.environment': c.environment, ...r.scopeLabel },
    healthcheck: true,
  });
  const v2 = (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id;
  const crashEnv: Record<string, string> = {
    HELM_TEST_CRASH_AT_STEP: c.step,
    ...(c.delayMs ? { HELM_TEST_CRASH_DELAY_MS: String(c.delayMs) } : {}),
  };
  const first: RigHelm = await r.startHelm(crashEnv);
  const t0 = Date.now();
  const job = await r.bus.send({
    action: 'deploy',
    target: service,
    environment: c.environment,
    reason: `crash matrix: ${c.label}`,
    params: { image: WEB_IMAGE_V2, image_id: v2 },
  });
  const jobId = String(job.id);
  let approvalId: string | null = null;
  if (c.environment === 'production') {
    const pending = await waitForStatus(r.bus.actions, job, 'pending_approval');
    approvalId = String(pending.approval_id);
    const req = await r.approvalRequest(approvalId);
    await warden.decide(r.approvals, req, 'approved', {
      expires_at: new Date(Date.now() + (c.expireBeforeRestart ? 6000 : 600_000)).toISOString(),
    });
  }

  // The fault hook kills the process at the step.
  await waitFor(
    async () => first.child.signalCode === 'SIGKILL' || first.child.exitCode !== null,
    `Helm to kill itself at ${c.step}`,
    45_000,
  );
  expect(first.child.signalCode).toBe('SIGKILL');
  const killMs = Date.now() - t0;
  const atKillContainers = await containersOf(service);
  const atKillIntents = await intentFiles(r.memoryDir);
  expect(atKillIntents).toHaveLength(1);
  expect(atKillIntents[0]!.step).toBe(c.step);
  const atKill = `intent ${atKillIntents[0]!.step}; ${describeContainers(atKillContainers)}`;
  if (c.delayMs) {
    // During the health check: the new container runs, its release is not recorded yet.
    expect(atKillContainers.find((x) => x.op && !x.kept)?.state).toBe('running');
    expect((await currentRelease(r.memoryDir, service))?.image_id).not.toBe(v2);
  }
  if (c.loseJob) {
    await r.bus.redis.flushall();
    expect(await r.exec.getJob(`exec-${jobId}`)).toBeUndefined();
  }
  if (c.expireBeforeRestart) await new Promise((res) => setTimeout(res, Math.max(0, t0 + 6500 - Date.now())));

  const t1 = Date.now();
  await r.startHelm();
  const upMs = Date.now() - t1;
  const t2 = Date.now();
  let result: RigResult | null = null;
  if (c.expect.status) result = await finalResultOf(r, jobId);
  const recovered = await waitFor(
    async () => (await r.runLog()).find((e) => e.event === 'recovered' && e.job_id === jobId),
    'the recovered run-log entry',
    60_000,
  );
  // The intent is gone once the operation is recovered.
  await waitFor(async () => (await intentFiles(r.memoryDir)).length === 0, 'no intent left');
  const recoverMs = Date.now() - t2;

  // Exactly one healthy release serves; no duplicate active containers.
  const after = await containersOf(service);
  const active = after.filter((x) => !x.kept);
  expect(active, JSON.stringify(after)).toHaveLength(1);
  expect(active[0]!.state).toBe('running');
  const info = await testDocker().getContainer(active[0]!.id).inspect();
  await waitFor(
    async () => (await testDocker().getContainer(active[0]!.id).inspect()).State.Health?.Status === 'healthy',
    'the serving container to be healthy',
  );
  const body = await (await fetch(`${web.url}/`)).text();
  expect(body).toContain(`version ${c.expect.version}`);
  expect(info.Config.Image).toBe(c.expect.version === 2 ? WEB_IMAGE_V2 : 'helm-test/web:1');
  // This operation never made a second set: at most one container carries its helm.op label.
  expect(after.filter((x) => x.op === `exec-${jobId}`).length).toBeLessThanOrEqual(1);
  // The current release record is what serves (the containers Helm found may have no record yet).
  const current = await currentRelease(r.memoryDir, service);
  if (c.expect.version === 2 || current) expect(current?.image_id).toBe(info.Image);

  // The request ended with a final result, and the run log has the outcome.
  const log = await r.runLog();
  const story = log.filter((e) => e.job_id === jobId).map((e) => e.event);
  expect(story.filter((e) => e === 'executing')).toHaveLength(1);
  if (result) {
    expect(result.status).toBe(c.expect.status);
    if (c.expect.code) expect(result.error?.code, `${c.label}: ${result.error?.message}`).toBe(c.expect.code);
    expect(story).toContain(
      c.expect.status === 'executed'
        ? 'executed'
        : c.expect.code === 'rolled_back'
          ? 'rolled_back'
          : 'failed',
    );
  }
  expect(recovered.message).toMatch(new RegExp(`crash at step ${c.step}`));
  // Exactly one recovery, and the run log still verifies.
  expect(log.filter((e) => e.event === 'recovered' && e.job_id === jobId)).toHaveLength(1);
  expect(await runLogProblems(r.memoryDir)).toEqual([]);
  if (approvalId) expect(recovered.approval_id).toBe(approvalId);
  if (c.expireBeforeRestart) {
    // Recovery ran after the approval's expiry, and restored only the release the plan names.
    expect(Date.parse(recovered.at)).toBeGreaterThan(t0 + 6000);
    const alerts = await r.bus.alertsSent();
    expect(alerts.find((a) => a.kind === 'rolled_back')).toMatchObject({ severity: 'critical' });
  }
  // A crash that left nothing changed resumes the request; any other is reconciled.
  if (c.resumes) expect(recovered.message).toMatch(/nothing had changed .*: the request resumes/);
  else expect(recovered.message).not.toMatch(/resumes/);
  const outcome = result
    ? `${result.status}${result.error ? ` ${result.error.code}` : ''}`
    : `start-up sweep: ${recovered.code ?? 'ok'}`;
  return {
    label: c.label,
    step: `${c.step}${c.delayMs ? ` +${c.delayMs} ms` : ''}${c.environment === 'production' ? ' (prod)' : ''}`,
    atKill,
    outcome,
    serving: `version ${c.expect.version} (${current?.id ?? 'no record'})`,
    killMs,
    upMs,
    recoverMs,
    totalMs: Date.now() - t0,
    message: recovered.message,
  };
}

describe('kill -9 of the executor at each step of a deploy, then a restart', () => {
  it('every case ends with one healthy release, no duplicate containers, a final result and the outcome in the run log', async () => {
    const started = Date.now();
    // Each case has its own Redis, memory folder, Helm processes and service: they run side by side,
    // four at a time (twelve cold Helm starts at once outlast the start-up bound on 2 cores).
    const rows = await mapWithLimit(CASES, 4, runCase);
    const pad = (s: string, n: number) => s.padEnd(n);
    const lines = [
      `${pad('step (kill -9)', 24)}${pad('at the kill', 52)}${pad('outcome', 38)}${pad('serving', 20)}${pad('killed at', 11)}${pad('new Helm up', 13)}${pad('then done', 11)}total`,
      ...rows.map(
        (row) =>
          `${pad(row.step, 24)}${pad(row.atKill, 52)}${pad(row.outcome, 38)}${pad(row.serving, 20)}${pad(secs(row.killMs), 11)}${pad(secs(row.upMs), 13)}${pad(secs(row.recoverMs), 11)}${secs(row.totalMs)}`,
      ),
    ];
    console.log(
      `[crash-matrix] kill -9 at each step of a deploy (web:1 → web:2), then a new Helm process:\n${lines.join('\n')}\n` +
        rows.map((row) => `  ${row.label}: ${row.message}`).join('\n') +
        `\n[crash-matrix] ${rows.length} cases in ${secs(Date.now() - started)}`,
    );
    // A hang guard: the cases four at a time, each two Helm start-ups, on a loaded bed.
  }, 600_000);
});
