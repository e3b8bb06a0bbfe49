import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import type Dockerode from 'dockerode';
import { QUEUE } from '../../bus/queue-names.js';
import { makeCommandConnection } from '../../bus/redis-connection.js';
import type { Config } from '../../config/config.js';
import { deriveKey, loadOrCreateHelmKey } from '../../keys/helm-key.js';
import { mergeRunLogs } from '../../runlog/index.js';
import { sendDecision } from '../decide-command.js';
import type { ParkedRecord } from '../../gate/parked-store.js';
import { listPending } from '../pending-command.js';
import { sendRequest } from '../request-command.js';
import type { DemoService } from './demo-docker.js';
import { readBack } from './demo-docker.js';
import type { BuiltImages } from './demo-image.js';
import type { DemoNames } from './demo-names.js';

/**
 * The walk-through, one function per step, each talking to the demo Helm over the bus as Forge or
 * Warden would, and each judged on what Docker, Redis or the run log show afterwards. A step says
 * what it did in plain words (`summary`) and what it read (`details`).
 */
export interface DemoStep {
  step: string;
  ok: boolean;
  summary: string;
  details: Record<string, unknown>;
}

export interface DemoWorld {
  config: Readonly<Config>;
  docker: Dockerode;
  names: DemoNames;
  images: BuiltImages;
  services: { staging: DemoService; production: DemoService };
  wardenKeyPem: string;
  memoryDir: string;
}

type Result = Record<string, unknown> & { status?: string; error?: { code?: string; message?: string } };

const REQUEST_TIMEOUT_MS = 120_000;

function deploy(w: DemoWorld, env: 'staging' | 'production', image: string, imageId: string, reason: string) {
  return {
    action: 'deploy',
    target: w.services[env].name,
    environment: env,
    reason,
    requested_by: 'helm-demo',
    params: { image, image_id: imageId },
  };
}

function send(w: DemoWorld, request: Record<string, unknown>): Promise<Result> {
  return sendRequest(w.config, request, { timeoutMs: REQUEST_TIMEOUT_MS }) as Promise<Result>;
}

export async function stagingDeploy(w: DemoWorld): Promise<DemoStep> {
  const result = await send(w, deploy(w, 'staging', w.names.images.v2, w.images.v2, 'helm demo: release 2'));
  const docker = await readBack(w.docker, w.names, w.services.staging.name);
  const ok =
    result.status === 'executed' && docker.every((c) => c.image_id === w.images.v2) && docker.length > 0;
  return {
    step: 'staging_deploy',
    ok,
    summary: ok
      ? `staging: release 2 deployed at once (no approval needed in staging); Docker shows ${describe(docker)}`
      : `staging: the deploy ended ${result.status} (${result.error?.message ?? 'no error'})`,
    details: { status: result.status, outcome: result['outcome'], docker },
  };
}

/**
 * The production deploy: parked for Warden, its plan shown, approved with the demo key, executed.
 * Each of its steps is reported as it happens (the approval waits on the parked one).
 */
export async function productionDeploy(w: DemoWorld, report: (s: DemoStep) => void): Promise<DemoStep[]> {
  const service = w.services.production.name;
  const final = send(w, deploy(w, 'production', w.names.images.v2, w.images.v2, 'helm demo: release 2'));
  let settled: Result | null = null;
  void final.then(
    (r) => {
      settled = r;
    },
    () => undefined,
  );
  const record = await waitParked(w, service, () => settled !== null);
  const parked = parkedStep(record, (settled as Result | null)?.status);
  report(parked);
  if (!record) {
    await final.catch(() => undefined);
    return [parked];
  }
  const sent = await sendDecision(w.config, {
    approvalId: record.approval_id,
    keyPem: w.wardenKeyPem,
    decision: 'approved',
    approver: 'helm-demo-warden',
    reason: 'helm demo: approved with the demo Warden key',
  });
  const approved: DemoStep = {
    step: 'production_approved',
    ok: true,
    summary: `Warden (here: a key made for this demo) signed "approved" over the plan's hash ${sent.decision.plan_hash.slice(0, 19)}…; Helm checks that signature before it changes anything`,
    details: { decision: sent.decision },
  };
  report(approved);
  const result = await final;
  const docker = await readBack(w.docker, w.names, service);
  const ok =
    result.status === 'executed' &&
    docker.length > 0 &&
    docker.every((c) => c.image_id === w.images.v2 && c.health === 'healthy');
  const executed: DemoStep = {
    step: 'production_executed',
    ok,
    summary: ok
      ? `production: release 2 executed and health-checked; Docker shows ${describe(docker)}`
      : `production: the deploy ended ${result.status} (${result.error?.message ?? 'no error'})`,
    details: { status: result.status, outcome: result['outcome'], docker },
  };
  report(executed);
  return [parked, approved, executed];
}

function parkedStep(record: ParkedRecord | null, endedAs: string | undefined): DemoStep {
  if (!record)
    return {
      step: 'production_parked',
      ok: false,
      summary: `production: the deploy was not parked (it ended ${endedAs ?? 'without a result'})`,
      details: {},
    };
  const { plan, steps, expires_at } = record.approval_request;
  const what = plan.action === 'deploy' ? `${plan.desired.image} as release ${plan.desired.new_release}` : '';
  return {
    step: 'production_parked',
    ok: true,
    summary:
      `production: the deploy waits for Warden (approval ${record.approval_id}, until ${expires_at}); ` +
      `Warden signs this exact plan: ${plan.action} ${plan.service} in ${plan.environment}, ${what}, in ${steps.length} steps:\n` +
      steps.map((s) => `      - ${s}`).join('\n'),
    details: { approval_id: record.approval_id, plan, steps },
  };
}

async function waitParked(w: DemoWorld, service: string, ended: () => boolean): Promise<ParkedRecord | null> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !ended()) {
    const found = (await listPending(w.config)).find((r) => r.approval_request.plan.service === service);
    if (found) return found;
    await sleep(200);
  }
  return null;
}

export async function badRelease(w: DemoWorld): Promise<DemoStep> {
  const service = w.services.staging.name;
  const result = await send(
    w,
    deploy(w, 'staging', w.names.images.bad, w.images.bad, 'helm demo: release 3, whose health check fails'),
  );
  const alerts = await rollbackAlerts(w, service);
  const docker = await readBack(w.docker, w.names, service);
  const ok =
    result.status === 'failed' &&
    result.error?.code === 'rolled_back' &&
    alerts.some((a) => a.kind === 'rolled_back') &&
    docker.length > 0 &&
    docker.every((c) => c.image_id === w.images.v2);
  const alert = alerts[0];
  return {
    step: 'bad_release_rolled_back',
    ok,
    summary: ok
      ? `staging: release 3 failed its health check and Helm rolled back to release 2 at once; Sentinel got the alert "${alert?.kind}" (${alert?.severity}): ${alert?.message}`
      : `staging: the bad release ended ${result.status} ${result.error?.code ?? ''} with ${alerts.length} rollback alert(s)`,
    details: { status: result.status, error: result.error, alerts, docker },
  };
}

/** The service's rolled_back/deploy_failed alerts (the executor sends them before the result; 5 s of slack). */
async function rollbackAlerts(w: DemoWorld, service: string): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const found = (await sentAlerts(w)).filter(
      (a) => (a['kind'] === 'rolled_back' || a['kind'] === 'deploy_failed') && a['target'] === service,
    );
    if (found.length > 0 || Date.now() > deadline) return found;
    await sleep(200);
  }
}

async function sentAlerts(w: DemoWorld): Promise<Array<Record<string, unknown>>> {
  const connection = makeCommandConnection(w.config.redisUrl, 'helm-demo');
  const alerts = new Queue(QUEUE.alerts, { connection, prefix: w.config.queuePrefix, skipMetasUpdate: true });
  try {
    const jobs = await alerts.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed'], 0, -1, true);
    return jobs.map((j) => j.data as Record<string, unknown>);
  } finally {
    await alerts.close();
    connection.disconnect();
  }
}

export async function runLogVerified(w: DemoWorld): Promise<DemoStep> {
  const key = deriveKey(await loadOrCreateHelmKey(w.memoryDir), 'run-log');
  const merged = await mergeRunLogs(w.memoryDir, key);
  const ok = merged.problems.length === 0 && merged.entries.length > 0;
  return {
    step: 'run_log_verified',
    ok,
    summary: ok
      ? `the run log holds ${merged.entries.length} entries, each HMAC-chained to the one before: the chain verifies (\`helm log --verify\` does this for your Helm)`
      : `the run log does not verify: ${merged.problems.map((p) => p.reason).join('; ') || 'no entries'}`,
    details: {
      verified: merged.problems.length === 0,
      entry_count: merged.entries.length,
      problems: merged.problems,
    },
  };
}

export async function statusPage(w: DemoWorld, url: string | null): Promise<DemoStep> {
  if (!url) return { step: 'status_page', ok: false, summary: 'the status page is off', details: {} };
  const res = await fetch(`${url}/status.json`);
  const body = await res.text();
  const ok = res.ok && body.includes(w.services.production.name) && body.includes(w.services.staging.name);
  return {
    step: 'status_page',
    ok,
    summary: `the status page (services, requests parked for Warden, run log, alerts) is at ${url}/ while the demo runs; your own Helm serves its own at HELM_HTTP_ADDR (default http://127.0.0.1:9464/)`,
    details: { url: `${url}/`, http_status: res.status },
  };
}

function describe(docker: Awaited<ReturnType<typeof readBack>>): string {
  return docker.map((c) => `${c.name} on image ${c.image_id.slice(7, 19)} (${c.health})`).join(', ');
}
