// set_env on the real engine, planned the way the gate plans it (planInputs + buildPlan): an inline
// value and a secret reference whose canary value reaches the container and no sink (result, log
// lines, plan, steps, announced steps, release records, rollback document, any file Helm wrote); a
// secret changed since the plan is stale_plan before any change; the change is a release, and a
// rollback to the release before it brings the old environment back.
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionRequestSchema, type Plan } from '../../../src/contracts/index.js';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import type { ExecContext, ExecMeta } from '../../../src/executor/exec-context.js';
import { rollbackService } from '../../../src/executor/rollback.js';
import { setEnvService } from '../../../src/executor/set-env.js';
import { observeTarget } from '../../../src/observe/observe-target.js';
import { planInputs } from '../../../src/observe/plan-inputs.js';
import { deriveKey, loadOrCreateHelmKey } from '../../../src/keys/helm-key.js';
import { buildPlan, planSteps } from '../../../src/plan/build-plan.js';
import { makeSecretStore, type SecretStore } from '../../../src/secrets/secret-store.js';
import { removeTestContainers } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  exists,
  expectEveryChangeAnnounced,
  type Harness,
  inspect,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
  startServiceContainer,
} from './exec-harness.js';

const CANARY = `canary-setenv-${Math.random().toString(36).slice(2)}-value`;
const CANARY_2 = `canary-setenv-rotated-${Math.random().toString(36).slice(2)}`;
const INLINE = `http://inline-${Math.random().toString(36).slice(2)}.example/v2`;
const meta: ExecMeta = {
  requestId: 't:set-env',
  approvalId: null,
  environment: 'staging',
  opId: 'op-set-env',
};
const service = uniqueName('envy');
const reads = makeDockerReads(process.env['DOCKER_HOST']);

let h: Harness;
let ctx: ExecContext;
let secrets: SecretStore;
let secretsDir: string;
let configKey: Buffer;
let secretKey: Buffer;
const results: unknown[] = [];
const plans: Plan[] = [];

beforeAll(async () => {
  h = makeHarness({ stabilityWindowMs: 500 });
  secretsDir = mkdtempSync(join(tmpdir(), 'helm-exec-test-secrets-'));
  chmodSync(secretsDir, 0o700);
  writeFileSync(join(secretsDir, 'db-password'), `${CANARY}\n`, { mode: 0o600 });
  secrets = makeSecretStore(secretsDir, h.redactor);
  ctx = { ...h.ctx, secrets };
  const helmKey = await loadOrCreateHelmKey(h.memoryDir);
  configKey = deriveKey(helmKey, 'config-hmac');
  secretKey = deriveKey(helmKey, 'secret-hmac');
  await startServiceContainer({
    service,
    name: service,
    image: 'helm-test/worker:1',
    port: null,
    env: { MODE: 'fast', KEEP: 'me' },
    labels: { 'ghost.environment': 'staging' },
  });
});
afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags([service]);
  for (const f of readdirSync(secretsDir)) unlinkSync(join(secretsDir, f));
  rmdirSync(secretsDir);
  if (h) removeHarnessDir(h.memoryDir);
});

const request = ActionRequestSchema.parse({
  action: 'set_env',
  target: service,
  environment: 'staging',
  reason: 'point at the new API, rotate the password, drop MODE',
  params: { set: { API_URL: INLINE, DB_PASSWORD: { secret: 'db-password' } }, unset: ['MODE'] },
});

/** A change that makes the worker exit at start (worker images refuse REPLICA = WORKER_FAIL_REPLICA). */
const failing = ActionRequestSchema.parse({
  action: 'set_env',
  target: service,
  environment: 'staging',
  reason: 'a change that breaks it',
  params: { set: { REPLICA: '2', WORKER_FAIL_REPLICA: '2', DB_PASSWORD: { secret: 'db-password' } } },
});

/** The plan as the gate makes it. */
async function plan(req = request): Promise<Plan> {
  const seen = await observeTarget(reads, service, []);
  if (!seen.ok) throw new Error(seen.message);
  const p = buildPlan({
    request: req,
    host: 'local',
    service,
    environment: seen.environment,
    containers: seen.containers,
    configKey,
    ...(await planInputs({ request: req, service, docker: reads, secrets, secretKey })),
  });
  plans.push(p);
  return p;
}

function envOf(info: { Config: { Env?: string[] | null } }): Record<string, string> {
  return Object.fromEntries(
    (info.Config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else out.push(p);
  }
  return out;
}

describe('set_env with an inline value and a secret reference', () => {
  it('plans the secret by its HMAC and the inline value as it is', async () => {
    const p = await plan();
    if (p.action !== 'set_env') throw new Error('unreachable');
    expect(p.desired.set['API_URL']).toEqual({ value: INLINE });
    expect(p.desired.set['DB_PASSWORD']).toEqual({
      secret: 'db-password',
      hmac_sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(p.desired.unset).toEqual(['MODE']);
  });

  it('recreates the container with the new environment as a new release, the old one kept', async () => {
    const before = await inspect(service);
    h.reset();
    const t0 = performance.now();
    const out = await setEnvService(
      ctx,
      await resolveService(service),
      (await plan()).desired as never,
      meta,
    );
    results.push(out);
    console.log(`[set_env] ${Math.round(performance.now() - t0)} ms — ${out.ok ? out.outcome : out.message}`);
    expect(out).toMatchObject({
      ok: true,
      release: { id: 'r2' },
      data: { previous_release: 'r1', unset: ['MODE'] },
    });
    if (!out.ok) throw new Error('unreachable');
    expect(out.outcome).toMatch(
      new RegExp(
        `^set API_URL, DB_PASSWORD \\(from secret db-password\\) and unset MODE on ${service} \\(1 container recreated, healthy: .*\\) as r2 in [0-9.]+ s; r1 kept for rollback$`,
      ),
    );
    const now = await inspect(service);
    expect(now.Id).not.toBe(before.Id);
    expect(envOf(now)).toMatchObject({
      API_URL: INLINE,
      DB_PASSWORD: CANARY,
      KEEP: 'me',
      WORKER_VERSION: '1',
    });
    expect(envOf(now)['MODE']).toBeUndefined();
    expect(now.Config.Labels).toMatchObject({
      'helm.env-secrets': '{"DB_PASSWORD":"db-password"}',
      'helm.release': 'r2',
      'helm.previous': 'r1',
      'ghost.environment': 'staging',
    });
    expect(now.State.Health?.Status).toBe('healthy');
    expect((await inspect(`${service}-helm-r1`)).Id).toBe(before.Id);
    expect(h.steps()).toEqual([
      'tag_release_image',
      'stop_old',
      'rename_old',
      'create_new',
      'start_new',
      'tag_release_image',
    ]);
    expectEveryChangeAnnounced(h.log);
    // The record keeps the reference and the inline value, never the secret's value.
    const r2 = await ctx.releases.getRelease(service, 'r2');
    const env = r2!.containers[0]!.config.env;
    expect(env).toEqual(
      expect.arrayContaining([
        { name: 'DB_PASSWORD', secret: 'db-password' },
        { name: 'API_URL', value: INLINE },
      ]),
    );
  });

  it('does nothing when the environment already says so', async () => {
    h.reset();
    const out = await setEnvService(
      ctx,
      await resolveService(service),
      (await plan()).desired as never,
      meta,
    );
    results.push(out);
    expect(out).toMatchObject({ ok: true, data: { changed: false } });
    expect(h.log).toEqual([]);
  });

  it('refuses a plan whose secret changed since (stale_plan), before any change', async () => {
    const old = await plan();
    writeFileSync(join(secretsDir, 'db-password'), `${CANARY_2}\n`, { mode: 0o600 });
    const fresh = await plan();
    // The recomputed plan differs: the executor's hash check refuses the approved one.
    expect(JSON.stringify(fresh.desired)).not.toBe(JSON.stringify(old.desired));
    h.reset();
    const out = await setEnvService(ctx, await resolveService(service), old.desired as never, meta);
    results.push(out);
    expect(out).toMatchObject({ ok: false, code: 'stale_plan' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toBe(
      'secret "db-password" changed since the plan was made (its HMAC differs from the plan\'s); nothing was changed',
    );
    expect(h.log).toEqual([]);
  });

  it('rolls back at once when the new environment fails its health check', async () => {
    const before = await inspect(service);
    h.reset();
    const out = await setEnvService(
      ctx,
      await resolveService(service),
      (await plan(failing)).desired as never,
      meta,
    );
    results.push(out);
    expect(out).toMatchObject({
      ok: false,
      code: 'rolled_back',
      data: { failed_release: 'r3', restored_release: 'r2' },
    });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toContain('it exited with code 2');
    expect((out.data!['last_logs'] as Array<{ text: string }>).map((l) => l.text)).toContain(
      'worker 1: refusing to run as replica 2',
    );
    const now = await inspect(service);
    expect(now.Id).toBe(before.Id);
    expect(now.State.Running).toBe(true);
    expect((await ctx.releases.currentRelease(service))?.id).toBe('r2');
    expectEveryChangeAnnounced(h.log);
  });

  it('is undone by a rollback to the release before it', async () => {
    h.reset();
    const out = await rollbackService(ctx, await resolveService(service), 'r1', meta);
    results.push(out);
    expect(out).toMatchObject({ ok: true, release: { id: 'r1' } });
    const env = envOf(await inspect(service));
    expect(env).toMatchObject({ MODE: 'fast', KEEP: 'me' });
    expect(env['DB_PASSWORD']).toBeUndefined();
    expect(await exists(`${service}-helm-r2`)).toBe(true);
  });

  it('leaves the canary in no sink', () => {
    const announced = h.log.filter((e) => e.kind === 'announce');
    const memoryFiles = filesUnder(h.memoryDir).map((f) => `${f}\n${readFileSync(f, 'latin1')}`);
    const sinks: Record<string, string> = {
      results: JSON.stringify(results),
      logLines: h.logLines.join('\n'),
      plans: JSON.stringify(plans),
      steps: JSON.stringify(plans.map((p) => planSteps(p))),
      announced: JSON.stringify(announced),
      memory: memoryFiles.join('\n'),
    };
    for (const [sink, text] of Object.entries(sinks)) {
      expect(text.length, `${sink} is empty: the test would prove nothing`).toBeGreaterThan(0);
      expect(text.includes(CANARY), `canary in ${sink}`).toBe(false);
      expect(text.includes(CANARY_2), `rotated canary in ${sink}`).toBe(false);
    }
    // Inline values are configuration: in the plan and the release record, never in a log or outcome.
    expect(sinks['plans']).toContain(INLINE);
    expect(sinks['memory']).toContain(INLINE);
    for (const sink of ['results', 'logLines', 'announced', 'steps'])
      expect(sinks[sink]!.includes(INLINE), `inline value in ${sink}`).toBe(false);
  });
});
