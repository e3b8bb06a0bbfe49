// The owner as Warden, end to end: keys from `helm keys generate`, Helm configured with the public
// half, a production restart parked by the real gate, then `helm approve` (executed) and `helm deny`
// (failed, denied) as real processes. Proves the CLI's decisions are ones the gate accepts.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { waitForStatus } from '../../helpers/warden.js';

const run = promisify(execFile);
let dir: string;
let h: TestHelm;
let bus: BusClient;

async function helm(env: Record<string, string>, ...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'helm-owner-warden-'));
  await helm({}, 'keys', 'generate', '--out', dir);
  h = await startTestHelm({
    HELM_WARDEN_PUBLIC_KEY_FILE: path.join(dir, 'warden.pub.pem'),
    HELM_STABILITY_WINDOW_S: '1',
    HELM_HEALTH_TIMEOUT_S: '20',
  });
  bus = await busClient(h.prefix);
});
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await removeTestContainers();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function parkedRestart() {
  const name = uniqueName('owner-warden');
  const web = await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'production' } });
  const startedAt = async () => (await testDocker().getContainer(web.id).inspect()).State.StartedAt;
  const before = await startedAt();
  const job = await bus.send({
    action: 'restart',
    target: name,
    environment: 'production',
    reason: 'owner test',
    params: { timeout_s: 5 },
  });
  const pending = await waitForStatus(bus.actions, job, 'pending_approval');
  return { job, approvalId: String(pending.approval_id), before, startedAt };
}

describe('the owner acting as Warden with the CLI', () => {
  it('helm approve: the gate accepts the decision and runs the restart', async () => {
    const { job, approvalId, before, startedAt } = await parkedRestart();
    const approved = await helm(h.env, 'approve', approvalId, '--key', path.join(dir, 'warden.key.pem'));
    expect(JSON.parse(approved.stdout)).toMatchObject({ approval_id: approvalId, decision: 'approved' });
    const result = (await job.waitUntilFinished(bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed', approval_id: approvalId });
    expect(await startedAt()).not.toBe(before);
  });

  it('helm deny: the request fails as denied and nothing changes', async () => {
    const { job, approvalId, before, startedAt } = await parkedRestart();
    const key = path.join(dir, 'warden.key.pem');
    await helm(h.env, 'deny', approvalId, '--key', key, '--reason', 'not during the sale');
    const result = (await job.waitUntilFinished(bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'failed', error: { code: 'denied' } });
    expect(await startedAt()).toBe(before);
    // The request has ended: a second decision is refused by the CLI itself.
    await expect(helm(h.env, 'approve', approvalId, '--key', key)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/has ended \(denied/),
    });
  });
});
