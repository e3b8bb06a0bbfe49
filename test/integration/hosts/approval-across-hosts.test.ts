// One approval across two hosts (contract 1.5, decisions 92 and 96): the same service runs on both
// engines, so either host's gate may park a production restart; the plan names that host (P). P's Helm
// then stops. Warden's decision, delivered twice, reaches only the other host (O), whose decision worker
// hands both copies to P's queue: nothing runs while P is down, nothing runs on O. When P's Helm returns
// it consumes the decision once (in its own run log, which its executor checks) and the restart runs
// once, on P's engine only.
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { startWebService, testDocker } from '../../helpers/docker.js';
import { engineBDocker, startHelmOnB, startWebServiceOnB } from '../../helpers/engine-b.js';
import { startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { readRunLogEntries } from '../../helpers/run-log.js';
import { startWardenBed, waitForStatus } from '../../helpers/warden.js';
import { closeAfterAll, startedAt } from './hosts-bed.js';

const closers = closeAfterAll();

describe('one approval, two hosts', () => {
  it('waits for the plan host while it is down, then executes once there', async () => {
    const bed = await startWardenBed({ HELM_HOST_ID: 'host-a' });
    closers.push(() => bed.close());
    const b = await startHelmOnB(bed.h, { HELM_WARDEN_PUBLIC_KEY: bed.warden.publicPem });
    let bClosed = false;
    closers.push(async () => bClosed || b.close());
    const service = uniqueName('ax');
    const labels = { ...bed.h.scopeLabel, 'ghost.service': service, 'ghost.environment': 'production' };
    const onA = await startWebService({ labels });
    const onB = await startWebServiceOnB({ labels });
    const engines: Record<string, { docker: Docker; id: string; helm: TestHelm }> = {
      'host-a': { docker: testDocker(), id: onA.id, helm: bed.h },
      'host-b': { docker: engineBDocker(), id: onB.id, helm: b },
    };
    const before = {
      'host-a': await startedAt(testDocker(), onA.id),
      'host-b': await startedAt(engineBDocker(), onB.id),
    };

    const job = await bed.bus.send({
      action: 'restart',
      target: service,
      environment: 'production',
      reason: 'x',
    });
    const pending = await waitForStatus(bed.bus.actions, job, 'pending_approval');
    const req = await bed.approvalRequest(String(pending.approval_id));
    const planHost = req.plan.host as 'host-a' | 'host-b';
    const otherHost = planHost === 'host-a' ? 'host-b' : 'host-a';
    const p = engines[planHost]!;
    const o = engines[otherHost]!;

    // The plan's host goes away (its Helm stops); the other serves on.
    await p.helm.close();
    if (planHost === 'host-b') bClosed = true;
    const decision = bed.warden.sign(req, 'approved');
    const copies = await Promise.all([1, 2].map(() => bed.approvals.add('decision', decision)));
    const outcomes = await Promise.all(
      copies.map((c) =>
        waitFor(async () => {
          const fresh = await bed.approvals.getJob(c.id!);
          return fresh && (await fresh.isCompleted()) ? (fresh.returnvalue as Record<string, unknown>) : null;
        }, `decision job ${c.id}`),
      ),
    );
    for (const outcome of outcomes)
      expect(outcome).toMatchObject({ outcome: 'info', reason: `forwarded to host ${planHost}` });
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await bed.bus.actions.getJob(job.id!))?.progress).toMatchObject({ status: 'pending_approval' });
    expect(await startedAt(o.docker, o.id)).toBe(before[otherHost]);
    expect(await startedAt(p.docker, p.id)).toBe(before[planHost]);

    // It returns: the decision is consumed once, there, and the restart runs once, on its engine.
    const back = await startTestHelm(p.helm.env, { prefix: p.helm.prefix, memoryDir: p.helm.memoryDir });
    closers.push(() => back.close());
    const result = await waitFor(
      async () => {
        const fresh = await bed.bus.actions.getJob(job.id!);
        return fresh && (await fresh.isCompleted()) ? (fresh.returnvalue as Record<string, unknown>) : null;
      },
      'the restart to finish',
      60_000,
    );
    expect(result).toMatchObject({ status: 'executed' });
    expect(await startedAt(p.docker, p.id)).not.toBe(before[planHost]);
    expect(await startedAt(o.docker, o.id)).toBe(before[otherHost]);
    const entries = async (h: TestHelm) => readRunLogEntries(h.memoryDir);
    // One execution in the two run logs together: P's executor began it (and P consumed the decision);
    // the final `executed` is written by whichever gate collected the result.
    const [pLog, oLog] = [await entries(p.helm), await entries(o.helm)];
    const of = (log: typeof pLog, event: string) =>
      log.filter((e) => e.event === event && e.job_id === String(job.id));
    expect(of(pLog, 'executing')).toHaveLength(1);
    expect(of(oLog, 'executing')).toEqual([]);
    expect([...of(pLog, 'executed'), ...of(oLog, 'executed')]).toHaveLength(1);
    expect(pLog.filter((e) => e.event === 'approved' && e.approval_id === req.approval_id)).toHaveLength(1);
    expect(oLog.filter((e) => e.event === 'approved')).toEqual([]);
  });
});
