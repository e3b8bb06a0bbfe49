// Bad input over the real bus: every kind ends as a failed ActionResult (invalid_request) with the
// problem in plain words and a run-log entry; nothing runs; the worker keeps going. And request_id.
import { FlowProducer } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService } from '../helpers/docker.js';
import { uniqueName } from '../helpers/containers.js';
import { type BusClient, busClient, cardRequest, startTestHelm, type TestHelm } from '../helpers/helm.js';
import { readRunLogEntries } from '../helpers/run-log.js';
import { waitForStatus } from '../helpers/warden.js';

let h: TestHelm;
let bus: BusClient;
let service: string;

beforeAll(async () => {
  h = await startTestHelm();
  bus = await busClient(h.prefix);
  service = uniqueName('intake-web');
  await startWebService({ labels: { 'ghost.service': service } });
});
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await removeTestContainers();
});

async function entriesFor(jobId: string) {
  return (await readRunLogEntries(h.memoryDir)).filter((e) => e.job_id === jobId);
}

const badInputs: Array<[string, unknown, RegExp]> = [
  [
    'wrong types',
    { action: 'health_check', target: 42, environment: true, reason: ['x'] },
    /target.*string|target/,
  ],
  ['unknown action', cardRequest({ action: 'reboot_everything' }), /action/],
  ['target ../x', cardRequest({ target: '../x' }), /target/],
  ['target -rf', cardRequest({ target: '-rf' }), /target/],
  ['target with a newline', cardRequest({ target: 'web\nrm' }), /target/],
  ['target with shell metacharacters', cardRequest({ target: 'web;rm$(x)' }), /target/],
  [
    'invalid image reference',
    cardRequest({
      action: 'deploy',
      params: { image: 'UPPER/Case:tag', image_id: `sha256:${'a'.repeat(64)}` },
    }),
    /image/,
  ],
  ['unknown keys', cardRequest({ colour: 'blue' }), /colour/],
  ['oversized reason', cardRequest({ reason: 'x'.repeat(1001) }), /reason/],
  [
    'oversized job data',
    cardRequest({ reason: 'ok', params: { pad: 'x'.repeat(600 * 1024) } }),
    /at most \d+ bytes/,
  ],
  ['an array', [1, 2, 3], /must be a JSON object, got an array/],
  ['a string', 'deploy everything', /must be a JSON object, got a string/],
  ['a number', 7, /must be a JSON object, got an integer/],
  [
    'the card deploy without an image',
    cardRequest({ action: 'deploy', reason: 'ship v1.2.3' }),
    /params.*image/,
  ],
  ['the card scale without replicas', cardRequest({ action: 'scale', reason: 'more' }), /params.*replicas/],
];

describe('bad input', () => {
  it.each(badInputs)(
    '%s → invalid_request in plain words, run-logged, nothing run',
    async (_name, data, pattern) => {
      const r = await bus.request(data);
      expect(r.status).toBe('failed');
      expect(r.error).toMatchObject({ code: 'invalid_request' });
      const message = (r.error as { message: string }).message;
      expect(r.outcome).toMatch(/^refused: invalid request \(\d+ problems?\)$/);
      expect(message).toMatch(pattern);
      expect(r.logged).toBe(true);
      expect(r.data).toBeUndefined();
      const entries = await entriesFor(r.job.id!);
      expect(entries.map((e) => e.event)).toEqual(['received', 'rejected']);
      expect(entries[1]!.code).toBe('invalid_request');
      // BullMQ completed the job with this result: it was not retried and is not in "failed".
      expect(await r.job.getState()).toBe('completed');
      expect(r.job.attemptsMade).toBeLessThanOrEqual(1);
    },
  );

  it('echoes the submitted strings of an invalid request, and null where they were not strings', async () => {
    const r = await bus.request({ action: 'health_check', target: 5, environment: 'moon', reason: 'x' });
    expect(r).toMatchObject({ action: 'health_check', target: null, environment: 'moon' });
  });

  it('ignores producer retries: a refused request with attempts: 5 is answered once', async () => {
    const r = await bus.request(cardRequest({ target: '../x' }), {
      attempts: 5,
      backoff: { type: 'fixed', delay: 10 },
    });
    expect(r.status).toBe('failed');
    expect((await entriesFor(r.job.id!)).filter((e) => e.event === 'rejected')).toHaveLength(1);
  });

  it('refuses a job added with a parent (a flow)', async () => {
    const flows = new FlowProducer({ connection: bus.redis, prefix: h.prefix });
    const tree = await flows.add({
      name: 'parent',
      queueName: 'forge.builds',
      data: {},
      children: [{ name: 'health_check', queueName: 'helm.actions', data: cardRequest({ target: service }) }],
    });
    await flows.close();
    const child = tree.children![0]!.job;
    const r = (await child.waitUntilFinished(bus.events, 30_000)) as {
      status: string;
      error: { code: string; message: string };
    };
    expect(r.status).toBe('failed');
    expect(r.error.code).toBe('invalid_request');
    expect(r.error.message).toContain('parent');
    expect((await entriesFor(child.id!)).map((e) => e.event)).toEqual(['received', 'rejected']);
  });

  it('keeps working after all of that', async () => {
    const r = await bus.request(cardRequest({ target: service }));
    expect(r.status).toBe('executed');
  });
});

describe("the design card's four-field examples", () => {
  it('answers health_check and logs at once, parks restart and stop in production for Warden, and refuses deploy and scale as incomplete', async () => {
    const target = service; // unlabelled: production
    const hc = await bus.request(cardRequest({ action: 'health_check', target }));
    expect(hc.status).toBe('executed');
    const logs = await bus.request(cardRequest({ action: 'logs', target }));
    expect(logs.status).toBe('executed');
    for (const action of ['restart', 'stop']) {
      const job = await bus.send(cardRequest({ action, target, reason: 'card example' }));
      const pending = await waitForStatus(bus.actions, job, 'pending_approval');
      expect(pending).toMatchObject({ action, environment: 'production', logged: true });
      expect(pending.approval_id).toMatch(/^[0-9a-f-]{36}$/);
    }
    const unknown = await bus.request(cardRequest());
    expect(unknown).toMatchObject({
      status: 'failed',
      error: { code: 'unknown_target' },
      target: 'openclaw-gateway',
    });
  });
});

describe('request_id', () => {
  it('answers a duplicate with the original result and duplicate_of, without running it again', async () => {
    const req = cardRequest({ target: service, request_id: `forge:${uniqueName('dup')}` });
    const first = await bus.request(req);
    expect(first.status).toBe('executed');
    const again = await bus.request(req);
    expect(again.duplicate_of).toBe(first.job.id);
    expect(again.job_id).toBe(again.job.id);
    expect(again.status).toBe('executed');
    expect(again.outcome).toBe(first.outcome);
    const entries = await entriesFor(again.job.id!);
    expect(entries.map((e) => e.event)).toEqual(['duplicate']);
  });

  it('fails a different request under a used id with request_id_conflict', async () => {
    const id = `forge:${uniqueName('conflict')}`;
    const first = await bus.request(cardRequest({ target: service, request_id: id }));
    const other = await bus.request(
      cardRequest({ target: service, request_id: id, reason: 'something else' }),
    );
    expect(other).toMatchObject({ status: 'failed', error: { code: 'request_id_conflict' } });
    expect((other.error as { message: string }).message).toContain(`job ${first.job.id}`);
  });

  it('does not let an invalid request reserve its id: the corrected resend runs', async () => {
    const id = `forge:${uniqueName('fix')}`;
    const bad = await bus.request(cardRequest({ target: '../oops', request_id: id }));
    expect(bad.error).toMatchObject({ code: 'invalid_request' });
    const fixed = await bus.request(cardRequest({ target: service, request_id: id }));
    expect(fixed.status).toBe('executed');
    expect(fixed.duplicate_of).toBeUndefined();
  });
});
