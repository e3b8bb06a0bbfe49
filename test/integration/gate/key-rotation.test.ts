// Warden's keys rotate without a restart: the key folder is read again when it changes, and a
// removed key's decisions are refused from then on.
import { mkdtemp, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { ApprovalRequestSchema } from '../../../src/contracts/index.js';
import { removeTestContainers, startWebService } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { makeTestWarden, waitForStatus } from '../../helpers/warden.js';

let h: TestHelm | undefined;
let bus: BusClient | undefined;
const queues: Queue[] = [];
afterAll(async () => {
  for (const q of queues) await q.close();
  await bus?.close();
  await h?.close();
  await removeTestContainers();
});

describe('Warden key rotation', () => {
  it('takes a new key and drops a removed one without a restart', async () => {
    const oldKey = makeTestWarden();
    const newKey = makeTestWarden();
    const dir = await mkdtemp(path.join(os.tmpdir(), 'helm-keys-'));
    await writeFile(path.join(dir, 'old.pem'), oldKey.publicPem);
    h = await startTestHelm({ HELM_WARDEN_PUBLIC_KEY_FILE: dir, HELM_STABILITY_WINDOW_S: '1' });
    bus = await busClient(h.prefix);
    const approvals = new Queue('helm.approvals', { connection: bus.redis, prefix: h.prefix });
    const requests = new Queue('warden.requests', { connection: bus.redis, prefix: h.prefix });
    queues.push(approvals, requests);

    const name = uniqueName('rot');
    await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'production' } });
    const job = await bus.send({
      action: 'restart',
      target: name,
      environment: 'production',
      reason: 'rotate',
      params: { timeout_s: 5 },
    });
    const pending = await waitForStatus(bus.actions, job, 'pending_approval');
    const req = ApprovalRequestSchema.parse(
      (await waitFor(async () => requests.getJob(String(pending.approval_id)), 'request')).data,
    );

    // Rotate: the new key comes, the old one goes.
    await writeFile(path.join(dir, 'new.pem'), newKey.publicPem);
    await unlink(path.join(dir, 'old.pem'));
    await new Promise((r) => setTimeout(r, 500));

    await oldKey.decide(approvals, req, 'approved');
    await waitFor(
      async () =>
        (await bus!.alertsSent()).find(
          (a) => a.kind === 'security' && String(a.message).includes('unknown_key'),
        ),
      'the old key refused as unknown',
    );
    expect(await job.getState()).toBe('delayed');

    await newKey.decide(approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bus.events, 60_000)) as { status: string };
    expect(result.status).toBe('executed');
  });
});
