// kill -9 of the executor during a compose service's deploy and rollback, then a new Helm process
// (issue 14, "Crash matrices"): a compose stack of one host-network web service (helm-test/web:1,
// Docker HEALTHCHECK) brought up with the CLI CI has (Debian's docker-compose v1); Helm runs as a real
// child process (crash-rig.ts) and kills itself right after the write-ahead intent recorded
// `compose_up` (before compose runs: nothing changed, the request resumes) or 6 s later, inside a 20 s
// stability window (compose has recreated the container: the change is undone through the compose
// CLI, the release before pinned again). A killed Helm's compose child is not killed with it, so a delayed case waits
// long enough for it to end. Each case ends with one container of the service (no duplicate), the
// release the outcome names serving, the request's final result, one `recovered` run-log entry, no
// intent left and a run log that verifies. Cost: ~40 s per case, cases side by side.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { waitFor } from '../../helpers/containers.js';
import {
  type CrashRig,
  finalResultOf,
  intentFiles,
  runLogProblems,
  SHORT_CRASH_INTERVALS,
  startCrashRig,
} from '../../helpers/crash-rig.js';
import { freePort, testDocker, testLabels } from '../../helpers/docker.js';
import { makeTestWarden } from '../../helpers/warden.js';
import { helmOverrideArgs, removeComposeProject } from './compose-stack.js';
import { httpText, removeHarnessDir, removeReleaseTags } from './exec-harness.js';

const run = promisify(execFile);
const warden = makeTestWarden();
const cleanups: Array<() => Promise<void>> = [];

afterAll(async () => {
  for (const c of cleanups) await c().catch(() => undefined);
});

interface Case {
  label: string;
  /** A deploy to web:2 first (no crash), then the crashing rollback to r1. */
  rollback?: boolean;
  delayMs: number;
  expect: { status: 'executed' | 'failed'; code?: string; version: 1 | 2; resumes: boolean };
}

const CASES: Case[] = [
  {
    label: 'deploy: before compose up ran',
    delayMs: 0,
    expect: { status: 'executed', version: 2, resumes: true },
  },
  {
    label: 'deploy: compose up done, during the health gate',
    delayMs: 6000,
    expect: { status: 'failed', code: 'rolled_back', version: 1, resumes: false },
  },
  {
    label: 'rollback: compose up done, during the health gate',
    rollback: true,
    delayMs: 6000,
    expect: { status: 'failed', code: 'rolled_back', version: 2, resumes: false },
  },
];

async function composeStack(r: CrashRig) {
  const project = `helmcrash${randomBytes(4).toString('hex')}`;
  const web = `cweb-${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'helm-exec-test-crash-compose-'));
  const compose = (...args: string[]) =>
    run('docker-compose', ['--project-name', project, '--file', join(dir, 'docker-compose.yml'), ...args], {
      cwd: dir,
      timeout: 60_000,
    });
  writeFileSync(
    join(dir, 'docker-compose.yml'),
    stringify({
      version: '2.4',
      services: {
        [web]: {
          image: 'helm-test/web:1',
          network_mode: 'host',
          init: true,
          environment: { PORT: String(port) },
          labels: testLabels({ 'ghost.environment': 'dev', ...r.scopeLabel }),
        },
      },
    }),
  );
  await compose('up', '--detach');
  cleanups.push(async () => {
    await compose(...helmOverrideArgs(r.memoryDir, project), 'down', '-v', '--timeout', '5').catch(
      () => undefined,
    );
    await removeComposeProject(project);
    await removeReleaseTags([web]);
    removeHarnessDir(dir);
  });
  const containers = async () =>
    testDocker().listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${web}`] },
    });
  await waitFor(async () => (await containers())[0]?.Status.includes('(healthy)'), `${web} healthy`, 30_000);
  return { web, port, containers };
}

async function runCase(c: Case): Promise<string> {
  const r = await startCrashRig({ wardenPublicPem: warden.publicPem, env: SHORT_CRASH_INTERVALS });
  cleanups.unshift(() => r.close());
  const stack = await composeStack(r);
  const v2 = (await testDocker().getImage('helm-test/web:2').inspect()).Id;
  const send = (action: string, params: Record<string, unknown>) =>
    r.bus.send({ action, target: stack.web, environment: 'dev', reason: `crash matrix: ${c.label}`, params });
  // The rollback case deploys first through this same process: its compose_up is the 1st, the rollback's the 2nd.
  const first = await r.startHelm({
    HELM_TEST_CRASH_AT_STEP: 'compose_up',
    HELM_TEST_CRASH_OCCURRENCE: c.rollback ? '2' : '1',
    HELM_TEST_CRASH_DELAY_MS: String(c.delayMs),
    // A long stability window, so the kill lands in the health gate however long `up` took (< 6 s).
    ...(c.delayMs > 0 ? { HELM_STABILITY_WINDOW_S: '20' } : {}),
  });
  if (c.rollback) {
    const deployed = await finalResultOf(
      r,
      String((await send('deploy', { image: 'helm-test/web:2', image_id: v2 })).id),
    );
    expect(deployed.status, JSON.stringify(deployed)).toBe('executed');
  }
  const job = c.rollback
    ? await send('rollback', {})
    : await send('deploy', { image: 'helm-test/web:2', image_id: v2 });
  const jobId = String(job.id);
  await waitFor(
    async () => first.child.signalCode !== null || first.child.exitCode !== null,
    'Helm to kill itself',
    60_000,
  );
  expect(first.child.signalCode, first.output()).toBe('SIGKILL');
  expect((await intentFiles(r.memoryDir)).map((i) => i.step)).toEqual(['compose_up']);
  // The orphaned compose child of the killed process ends on its own first.
  await new Promise((res) => setTimeout(res, 2000));

  await r.startHelm();
  const result = await finalResultOf(r, jobId, 120_000);
  await waitFor(async () => (await intentFiles(r.memoryDir)).length === 0, 'no intent left', 30_000);
  const log = await r.runLog();
  const recovered = log.filter((e) => e.event === 'recovered' && e.job_id === jobId);
  const where = `${c.label}: ${JSON.stringify(result)}\n${recovered.map((e) => e.message).join('\n')}`;
  expect(result.status, where).toBe(c.expect.status);
  if (c.expect.code) expect(result.error?.code, where).toBe(c.expect.code);
  expect(recovered, where).toHaveLength(1);
  expect(recovered[0]!.message).toMatch(
    c.expect.resumes ? /the request resumes/ : /recovered after a crash at step compose_up/,
  );
  expect(log.filter((e) => e.event === 'executing' && e.job_id === jobId)).toHaveLength(1);
  expect(await runLogProblems(r.memoryDir)).toEqual([]);
  // One container of the service, running the release the outcome names.
  const left = await stack.containers();
  expect(left, JSON.stringify(left.map((x) => [x.Names, x.State]))).toHaveLength(1);
  await waitFor(async () => (await stack.containers())[0]?.Status.includes('(healthy)'), 'healthy', 30_000);
  expect(await httpText(stack.port)).toContain(`version ${c.expect.version}`);
  return `${c.label.padEnd(52)} → ${result.status}${result.error ? ` ${result.error.code}` : ''}, version ${c.expect.version} serves`;
}

describe('kill -9 of the executor during a compose deploy and rollback, then a restart', () => {
  it('each case ends with one container on the release the outcome names, a final result, one recovered entry, a verifying run log', async () => {
    const rows = await Promise.all(CASES.map((c) => runCase(c)));
    console.log(`[crash-matrix-compose]\n${rows.join('\n')}`);
  }, 300_000);
});
