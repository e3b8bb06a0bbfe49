// Two Helms with different host ids on one bus, each on its own real Docker engine (contract 1.5,
// decisions 90-93): a production restart approved for host A's plan runs on A's engine once; the very
// same signed exec job put on host B's queue is refused by B's executor, which changes nothing on its
// engine; a Helm on the second engine serves a dev restart there. Results, alerts and the heartbeat
// name the host.
import { readdir } from 'node:fs/promises';
import { FlowProducer, Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { execQueueName } from '../../../src/bus/queue-names.js';
import { heartbeatKeys } from '../../../src/contracts/index.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { startWebService, testDocker } from '../../helpers/docker.js';
import {
  engineBDocker,
  engineBDockerHost,
  startHelmOnB,
  startWebServiceOnB,
} from '../../helpers/engine-b.js';
import { type BusClient, busClient, startTestHelm } from '../../helpers/helm.js';
import { readRunLogEntries } from '../../helpers/run-log.js';
import { startWardenBed, waitForStatus } from '../../helpers/warden.js';
import { closeAfterAll, startedAt } from './hosts-bed.js';

const closers = closeAfterAll();

describe('two hosts on one bus', () => {
  it("runs host A's approved production plan on A's engine once, and B's executor refuses it", async () => {
    const a = await startWardenBed({ HELM_HOST_ID: 'host-a' });
    closers.push(() => a.close());
    const b = await startHelmOnB(a.h, {
      HELM_WORKERS: 'executor',
      HELM_WARDEN_PUBLIC_KEY: a.warden.publicPem,
    });
    closers.push(() => b.close());
    const service = uniqueName('hw');
    const labels = { ...a.h.scopeLabel, 'ghost.service': service, 'ghost.environment': 'production' };
    const onA = await startWebService({ labels });
    const onB = await startWebServiceOnB({ labels });
    const [aBefore, bBefore] = [
      await startedAt(testDocker(), onA.id),
      await startedAt(engineBDocker(), onB.id),
    ];

    // B's heartbeat names its host and only its own exec queue.
    const beat = JSON.parse(
      (await waitFor(
        async () => a.bus.redis.get(heartbeatKeys(a.h.prefix, b.env['HELM_INSTANCE']!).instance),
        "host B's heartbeat",
      )) as string,
    ) as { host: string; workers: string[] };
    expect(beat).toMatchObject({ host: 'host-b', workers: [execQueueName('host-b')] });

    // A named job id: the replay below re-creates its parent under it (BullMQ refuses integer ids).
    const job = await a.bus.send(
      { action: 'restart', target: service, environment: 'production', reason: 'two hosts' },
      { jobId: `two-hosts-${service}` },
    );
    const pending = await waitForStatus(a.bus.actions, job, 'pending_approval');
    const req = await a.approvalRequest(String(pending.approval_id));
    expect(req.plan).toMatchObject({ host: 'host-a', service, environment: 'production' });
    await a.warden.decide(a.approvals, req, 'approved');
    const result = (await job.waitUntilFinished(a.bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed', host: 'host-a' });
    const aAfter = await startedAt(testDocker(), onA.id);
    expect(aAfter).not.toBe(aBefore);
    expect(await startedAt(engineBDocker(), onB.id)).toBe(bBefore);
    const resultAlert = (await a.bus.alertsSent()).find(
      (al) => al.kind === 'action_result' && al.dedup_key === `action_result:${job.id}`,
    );
    expect(resultAlert).toMatchObject({ host: 'host-a' });

    // The genuine signed exec job of A's plan (A's key is B's key), replayed under its parent onto
    // host B's queue: B refuses it for the host its plan names, before any lease or change.
    const execA = new Queue(execQueueName('host-a'), { connection: a.bus.redis, prefix: a.h.prefix });
    const execB = new Queue(execQueueName('host-b'), { connection: a.bus.redis, prefix: a.h.prefix });
    const flows = new FlowProducer({ connection: a.bus.redis, prefix: a.h.prefix });
    closers.push(
      () => execA.close(),
      () => execB.close(),
      () => flows.close(),
    );
    const genuine = (await execA.getJob(`exec-${job.id}`))!;
    expect(genuine.data).toMatchObject({ parent_job_id: job.id, plan: { host: 'host-a' } });
    await flows.add({
      name: 'replay-parent',
      queueName: 'hosts-test.parents',
      opts: { jobId: String(job.id) },
      children: [
        {
          name: genuine.name,
          queueName: execQueueName('host-b'),
          data: genuine.data,
          opts: { jobId: 'replayed' },
        },
      ],
    });
    const refused = await waitFor(async () => {
      const j = await execB.getJob('replayed');
      return j && (await j.isCompleted()) ? (j.returnvalue as Record<string, unknown>) : null;
    }, "B's answer to the replayed job");
    expect(refused).toMatchObject({ ok: false, code: 'denied' });
    expect(String(refused.message)).toContain(
      'its plan is for host "host-a" and this executor runs host "host-b"',
    );
    const security = (await a.bus.alertsSent()).filter((al) => al.kind === 'security');
    expect(security).toEqual([expect.objectContaining({ host: 'host-b' })]);
    expect(await startedAt(engineBDocker(), onB.id)).toBe(bBefore);
    expect(await startedAt(testDocker(), onA.id)).toBe(aAfter);

    // One execution in all: A's run log has it, B's has none.
    const executedA = (await readRunLogEntries(a.h.memoryDir)).filter((e) => e.event === 'executed');
    expect(executedA.map((e) => e.job_id)).toEqual([String(job.id)]);
    const bLog = (await readdir(b.memoryDir)).find((f) => f.startsWith('run_log.')) ?? 'run_log.md';
    expect((await readRunLogEntries(b.memoryDir, bLog)).filter((e) => e.event === 'executed')).toEqual([]);
  });

  it("serves a dev restart on the second engine when that host's Helm takes it", async () => {
    const h = await startTestHelm({ HELM_HOST_ID: 'host-b', DOCKER_HOST: engineBDockerHost() });
    closers.push(() => h.close());
    const bus: BusClient = await busClient(h.prefix);
    closers.push(() => bus.close());
    const service = uniqueName('hb');
    const web = await startWebServiceOnB({
      labels: { ...h.scopeLabel, 'ghost.service': service, 'ghost.environment': 'dev' },
    });
    const before = await startedAt(engineBDocker(), web.id);
    const r = await bus.request({ action: 'restart', target: service, environment: 'dev', reason: 'on b' });
    expect(r).toMatchObject({ status: 'executed', host: 'host-b' });
    expect(await startedAt(engineBDocker(), web.id)).not.toBe(before);
    // The first engine never held it.
    const onA = await testDocker().listContainers({
      all: true,
      filters: { label: [`ghost.service=${service}`] },
    });
    expect(onA).toEqual([]);
  });
});
