// A secret goes only where the owner's scopes file lets it (secrets/secret-scopes.ts). Through the
// real bus, gate and Docker: a staging set_env naming a production secret is denied with a security
// alert, before any plan or Warden, and the container is untouched; a production set_env naming a
// staging secret is denied without an ApprovalRequest; a first deploy whose services file gives the
// service an out-of-scope secret creates nothing; a scope narrowed while a request waits for Warden
// holds at execution; an in-scope reference runs.
import {
  chmodSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, testDocker } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { readRunLogEntries } from '../../helpers/run-log.js';
import { startTestHelm } from '../../helpers/helm.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';
import { removeReleaseTags, startServiceContainer } from '../executor/exec-harness.js';

const PROD_VALUE = `prod-canary-${Math.random().toString(36).slice(2)}-value`;
const STAGING_VALUE = `staging-canary-${Math.random().toString(36).slice(2)}-value`;
const services: string[] = [];
const fresh = uniqueName('scoped-fresh');
let secretsDir: string;
let servicesDir: string;
let bed: WardenBed;

beforeAll(async () => {
  secretsDir = mkdtempSync(path.join(os.tmpdir(), 'helm-scoped-secrets-'));
  chmodSync(secretsDir, 0o700);
  writeFileSync(path.join(secretsDir, 'prod-db'), `${PROD_VALUE}\n`, { mode: 0o600 });
  writeFileSync(path.join(secretsDir, 'staging-token'), `${STAGING_VALUE}\n`, { mode: 0o600 });
  writeFileSync(
    path.join(secretsDir, '.scopes.yaml'),
    [
      'secrets:',
      '  prod-db: { environments: [production] }',
      '  staging-token: { environments: [staging] }',
      '',
    ].join('\n'),
  );
  servicesDir = mkdtempSync(path.join(os.tmpdir(), 'helm-scoped-services-'));
  const servicesFile = path.join(servicesDir, 'services.yml');
  writeFileSync(
    servicesFile,
    [
      'services:',
      `  ${fresh}:`,
      '    image: helm-test/web',
      '    environment: staging',
      '    env: { DB_PASSWORD: { secret: prod-db } }',
      '',
    ].join('\n'),
  );
  bed = await startWardenBed({
    HELM_SECRETS_DIR: secretsDir,
    HELM_SERVICES_FILE: servicesFile,
    HELM_STABILITY_WINDOW_S: '1',
    HELM_HEALTH_TIMEOUT_S: '15',
  });
});

afterAll(async () => {
  await bed?.close();
  await removeTestContainers();
  await removeReleaseTags([...services, fresh]);
  for (const dir of [secretsDir, servicesDir]) {
    if (!dir) continue;
    for (const f of readdirSync(dir)) unlinkSync(path.join(dir, f));
    rmdirSync(dir);
  }
});

async function worker(environment: string) {
  const name = uniqueName(`scoped-${environment}`);
  services.push(name);
  await startServiceContainer({
    service: name,
    name,
    image: 'helm-test/worker:1',
    port: null,
    labels: { 'ghost.environment': environment },
  });
  return name;
}

const inspect = (name: string) => testDocker().getContainer(name).inspect();

async function securityAlertFor(target: string) {
  return waitFor(
    async () =>
      (await bed.bus.alertsSent()).find(
        (a) =>
          a.kind === 'security' &&
          a.target === target &&
          String(a.dedup_key).startsWith('security:secret_scope:'),
      ) ?? null,
    `a security alert for ${target}`,
  );
}

async function approvalRequestsFor(target: string) {
  const jobs = await bed.wardenRequests.getJobs(
    ['waiting', 'active', 'completed', 'failed', 'delayed'],
    0,
    -1,
  );
  return jobs.filter((j) => (j.data as { request?: { target?: string } }).request?.target === target);
}

/** A set_env of one env name from one secret, through the bus; its final result. */
const setEnvFromSecret = (target: string, environment: string, envName: string, secret: string) =>
  bed.bus.request({
    action: 'set_env',
    target,
    environment,
    reason: `${envName} from ${secret}`,
    params: { set: { [envName]: { secret } } },
  });

describe('a secret reference outside its scope', () => {
  it('staging set_env naming a production secret: denied, alerted, the container untouched', async () => {
    const name = await worker('staging');
    const before = await inspect(name);
    const r = await setEnvFromSecret(name, 'staging', 'STOLEN', 'prod-db');
    expect(r).toMatchObject({ status: 'failed', error: { code: 'denied' } });
    expect(String((r['error'] as { message: string }).message)).toContain(
      `secret "prod-db" may not go to ${name} (staging): its scope allows the environments production only`,
    );
    const alert = await securityAlertFor(name);
    expect(alert).toMatchObject({ severity: 'critical', environment: 'staging' });

    const after = await inspect(name);
    expect(after.Id).toBe(before.Id);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
    expect(after.Config.Env).toEqual(before.Config.Env);
    expect(JSON.stringify(after.Config.Env)).not.toContain(PROD_VALUE);
    expect(await approvalRequestsFor(name)).toEqual([]);
    const events = (await readRunLogEntries(bed.h.memoryDir))
      .filter((e) => e.job_id === r.job.id)
      .map((e) => e.event);
    expect(events).toEqual(['received', 'failed']);
  });

  it('production set_env naming a staging secret: denied before Warden is asked', async () => {
    const name = await worker('production');
    const before = await inspect(name);
    const r = await setEnvFromSecret(name, 'production', 'TOKEN', 'staging-token');
    expect(r).toMatchObject({ status: 'failed', error: { code: 'denied' } });
    await securityAlertFor(name);
    expect(await approvalRequestsFor(name)).toEqual([]);
    expect((await inspect(name)).Id).toBe(before.Id);
  });

  it('a first deploy whose services file gives the service an out-of-scope secret creates nothing', async () => {
    const imageId = (await testDocker().getImage('helm-test/web:2').inspect()).Id;
    const r = await bed.bus.request({
      action: 'deploy',
      target: fresh,
      environment: 'staging',
      reason: 'first release',
      params: { image: 'helm-test/web:2', image_id: imageId },
    });
    expect(r).toMatchObject({ status: 'failed', error: { code: 'denied' } });
    expect(String((r['error'] as { message: string }).message)).toContain(
      `secret "prod-db" may not go to ${fresh}`,
    );
    await securityAlertFor(fresh);
    // Helm said so at start-up already.
    expect(bed.h.logLines.join('\n')).toContain(
      `services file: secret \\"prod-db\\" may not go to ${fresh} (staging)`,
    );
    const created = await testDocker().listContainers({
      all: true,
      filters: { label: [`ghost.service=${fresh}`] },
    });
    expect(created).toEqual([]);
  });
});

describe('a scope narrowed while a request waits for Warden', () => {
  it('holds at execution: the approved set_env is denied and nothing changes', async () => {
    const name = await worker('production');
    const before = await inspect(name);
    const job = await bed.bus.send({
      action: 'set_env',
      target: name,
      environment: 'production',
      reason: 'the production password',
      params: { set: { DB_PASSWORD: { secret: 'prod-db' } } },
    });
    const pending = await waitForStatus(bed.bus.actions, job, 'pending_approval');
    const req = await bed.approvalRequest(String(pending.approval_id));
    const scopesFile = path.join(secretsDir, '.scopes.yaml');
    const scopes = readFileSync(scopesFile, 'utf8');
    writeFileSync(
      scopesFile,
      scopes.replace('prod-db: { environments: [production] }', 'prod-db: { services: [billing] }'),
    );
    try {
      await bed.warden.decide(bed.approvals, req, 'approved');
      const result = (await job.waitUntilFinished(bed.bus.events, 60_000)) as Record<string, unknown>;
      expect(result).toMatchObject({ status: 'failed', error: { code: 'denied' } });
      expect(JSON.stringify(result)).toContain('its scope allows the services billing only');
    } finally {
      writeFileSync(scopesFile, scopes);
    }
    const after = await inspect(name);
    expect(after.Id).toBe(before.Id);
    expect(JSON.stringify(after.Config.Env)).not.toContain(PROD_VALUE);
  });
});

describe('a secret reference inside its scope', () => {
  it('staging set_env naming a staging secret runs, and Docker shows the value', async () => {
    const name = await worker('staging');
    const r = await setEnvFromSecret(name, 'staging', 'TOKEN', 'staging-token');
    expect(r).toMatchObject({ status: 'executed' });
    expect((await inspect(name)).Config.Env).toContain(`TOKEN=${STAGING_VALUE}`);
  });
});

describe('a scopes file Helm cannot read', () => {
  it('stops start-up, naming the file and the field', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'helm-bad-scopes-'));
    chmodSync(dir, 0o700);
    writeFileSync(path.join(dir, '.scopes.yaml'), 'secrets:\n  prod-db: { environments: [prod] }\n');
    try {
      await expect(startTestHelm({ HELM_SECRETS_DIR: dir })).rejects.toThrow(
        `Helm cannot start:\n  - ${dir}/.scopes.yaml: secrets["prod-db"].environments[0]: must be one of production, staging, dev`,
      );
    } finally {
      unlinkSync(path.join(dir, '.scopes.yaml'));
      rmdirSync(dir);
    }
  });
});
