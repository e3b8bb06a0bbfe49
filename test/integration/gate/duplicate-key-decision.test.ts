// A decision (or a request) whose stored JSON repeats a key means two things (JSON.parse keeps the last copy, another
// agent's parser may keep the first), so Helm refuses it as malformed (CONTRACT.md decision 15) even
// when the copy JSON.parse keeps is a genuine, signed approval. The job hash is written raw, the way
// anyone who can write to the bus could, and the job promoted: the real gate reads it from Redis.
import type { Job, Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { readRunLogEntries } from '../../helpers/run-log.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';

let bed: WardenBed;

beforeAll(async () => {
  bed = await startWardenBed({ HELM_STABILITY_WINDOW_S: '1', HELM_HEALTH_TIMEOUT_S: '20' });
});
afterAll(async () => {
  await bed?.close();
  await removeTestContainers();
});

async function startedAt(id: string): Promise<string> {
  return (await testDocker().getContainer(id).inspect()).State.StartedAt;
}

/** Adds a job whose stored `data` is exactly `text` (added delayed, rewritten, then promoted). */
async function addRaw(queue: Queue, name: string, text: string): Promise<Job> {
  const job = await queue.add(name, { placeholder: true }, { delay: 3_600_000 });
  await bed.bus.redis.hset(`${job.queueQualifiedName}:${job.id}`, 'data', text);
  await job.promote();
  return job;
}

async function addRawDecision(text: string): Promise<string> {
  return String((await addRaw(bed.approvals, 'decision', text)).id);
}

describe('a decision whose stored JSON repeats a key', () => {
  it('is refused as malformed with a security alert, and the parked request is not executed', async () => {
    const service = uniqueName('dup-key');
    const web = await startWebService({
      labels: { 'ghost.service': service, 'ghost.environment': 'production' },
    });
    const before = await startedAt(web.id);
    const job = await bed.bus.send({
      action: 'restart',
      target: service,
      environment: 'production',
      reason: 'duplicate-key decision test',
      params: { timeout_s: 5 },
    });
    const pending = await waitForStatus(bed.bus.actions, job, 'pending_approval');
    const req = await bed.approvalRequest(String(pending.approval_id));

    // Warden's genuine approval, signed; the bus writer slips a "denied" in front of its "decision".
    // JSON.parse keeps "approved" (the signed one); a parser that keeps the first copy reads "denied".
    const signed = bed.warden.sign(req, 'approved');
    const genuine = JSON.stringify(signed);
    const ambiguous = genuine.replace('"decision":"approved"', '"decision":"denied","decision":"approved"');
    expect(ambiguous).not.toBe(genuine);
    const decisionJobId = await addRawDecision(ambiguous);

    const decisionJob = await waitFor(async () => {
      const j = await bed.approvals.getJob(decisionJobId);
      return j?.finishedOn ? j : null;
    }, 'the ambiguous decision to be handled');
    expect(decisionJob.returnvalue).toMatchObject({
      outcome: 'security',
      reason: 'malformed',
      approval_id: req.approval_id,
    });
    await waitFor(
      async () =>
        (await bed.bus.alertsSent()).some(
          (a) =>
            a.kind === 'security' &&
            a.severity === 'critical' &&
            String(a.message).includes('malformed') &&
            String(a.message).includes('duplicate key'),
        ),
      'a security alert for the malformed decision',
    );
    const refused = (await readRunLogEntries(bed.h.memoryDir)).filter(
      (e) => e.event === 'security' && e.code === 'malformed',
    );
    expect(refused.map((e) => e.message).join('\n')).toContain('duplicate key "decision"');

    // Nothing executed: the request still waits for Warden and the container was not restarted.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await job.getState()).toBe('delayed');
    expect(await startedAt(web.id)).toBe(before);
    const events = (await readRunLogEntries(bed.h.memoryDir))
      .filter((e) => e.job_id === job.id)
      .map((e) => e.event);
    expect(events).toEqual(['received', 'pending_approval']);

    // The same approval without the repeated key is still taken: the refusal changed nothing.
    await addRawDecision(genuine);
    const result = (await job.waitUntilFinished(bed.bus.events, 60_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed', approval_id: req.approval_id });
    expect(await startedAt(web.id)).not.toBe(before);
  });
});

describe('an ActionRequest whose stored JSON repeats a key', () => {
  it('is refused as invalid_request and nothing is done for either reading', async () => {
    const service = uniqueName('dup-req');
    const web = await startWebService({ labels: { 'ghost.service': service, 'ghost.environment': 'dev' } });
    const before = await startedAt(web.id);
    const text = `{"action":"restart","target":"${service}","environment":"dev","environment":"production","reason":"repeated key"}`;
    const job = await addRaw(bed.bus.actions, 'restart', text);
    const result = (await job.waitUntilFinished(bed.bus.events, 30_000)) as {
      status: string;
      error: { code: string; message: string };
    };
    expect(result.status).toBe('failed');
    expect(result.error.code).toBe('invalid_request');
    expect(result.error.message).toContain('duplicate key "environment"');
    await new Promise((r) => setTimeout(r, 500));
    expect(await startedAt(web.id)).toBe(before);
  });
});
