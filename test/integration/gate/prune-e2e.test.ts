// Prune through the bus: a host-wide action on this host (its HELM_HOST_ID, or "local"), whose
// environment is the strongest among the managed containers (none: production), so it waits for
// Warden; the plan names the host id (never "local") and lists exactly what goes.
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { startWardenBed, waitForStatus } from '../../helpers/warden.js';

let h: TestHelm | undefined;
let bus: BusClient | undefined;
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await removeTestContainers();
});

describe('prune through the bus', () => {
  it('takes the strongest environment among the managed containers; a staging host prunes at once', async () => {
    h = await startTestHelm({ HELM_HOST_ID: 'host-a' });
    bus = await busClient(h.prefix);
    // A dev and a staging container in this Helm's scope: the host counts as staging.
    await startWebService({
      labels: { ...h.scopeLabel, 'ghost.service': uniqueName('pd'), 'ghost.environment': 'dev' },
    });
    await startWebService({
      labels: { ...h.scopeLabel, 'ghost.service': uniqueName('ps'), 'ghost.environment': 'staging' },
    });

    const mismatch = await bus.request({
      action: 'prune',
      target: 'host-a',
      environment: 'dev',
      reason: 'x',
      params: { what: 'images' },
    });
    expect(mismatch).toMatchObject({ status: 'failed', error: { code: 'environment_mismatch' } });
    expect(String((mismatch.error as { message: string }).message)).toContain('host-a is staging');

    const elsewhere = await bus.request({
      action: 'prune',
      target: 'otherhost',
      environment: 'staging',
      reason: 'x',
      params: { what: 'images' },
    });
    expect(elsewhere).toMatchObject({ status: 'failed', error: { code: 'unknown_target' } });

    // Staging prune: the card does not gate it; it runs at once with what the plan lists. The host
    // is named by its id or as "local" (the host the request reached).
    for (const target of ['local', 'host-a']) {
      const staging = await bus.request({
        action: 'prune',
        target,
        environment: 'staging',
        reason: 'tidy up',
        params: { what: 'containers' },
      });
      expect(staging.status).toBe('executed');
    }
  });

  it('with production on the host waits for Warden', async () => {
    const bed = await startWardenBed({ HELM_HOST_ID: 'host-p' });
    try {
      // No managed container at all: production by default.
      const job = await bed.bus.send({
        action: 'prune',
        target: 'local',
        environment: 'production',
        reason: 'disk',
        params: { what: 'images' },
      });
      const pending = await waitForStatus(bed.bus.actions, job, 'pending_approval');
      const req = await bed.approvalRequest(String(pending.approval_id));
      expect(req.plan).toMatchObject({
        action: 'prune',
        host: 'host-p',
        service: 'host-p',
        environment: 'production',
        desired: { what: 'images' },
      });
      await bed.warden.decide(bed.approvals, req, 'approved');
      const result = (await job.waitUntilFinished(bed.bus.events, 60_000)) as { status: string };
      expect(result.status).toBe('executed');
    } finally {
      await bed.close();
    }
  });
});
