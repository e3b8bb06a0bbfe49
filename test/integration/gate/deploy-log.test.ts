// What Helm's own log says about a deploy through the bus: the request's "request ended" line measures
// the request from its arrival on helm.actions to its final result (across the wait for Warden and the
// executor's work on helm.exec), not the last few milliseconds the gate held the job; and each step of
// the deploy (stop, create, start, health check, stability window, the replica's switch) has an info
// line with its duration, so the owner can follow a deploy in the log.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { removeReleaseTags } from '../executor/exec-harness.js';
import { uniqueName } from '../../helpers/containers.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';

const WINDOW_S = 3;
/** How long the request waits for Warden on purpose, so the wait must count in its duration. */
const PARKED_MS = 1_500;

let bed: WardenBed;
const services: string[] = [];

beforeAll(async () => {
  bed = await startWardenBed({ HELM_STABILITY_WINDOW_S: String(WINDOW_S), HELM_HEALTH_TIMEOUT_S: '15' });
});
afterAll(async () => {
  await removeReleaseTags(services);
  await bed?.close();
  await removeTestContainers();
});

type LogLine = Record<string, unknown> & { msg: string; level: number };

function lines(): LogLine[] {
  return bed.h.logLines.map((l) => JSON.parse(l) as LogLine);
}

describe("a deploy in Helm's own log", () => {
  it('"request ended" measures the whole request, and every step has an info line with its duration', async () => {
    const name = uniqueName('dep-log');
    services.push(name);
    await startWebService({
      labels: { 'ghost.service': name, 'ghost.environment': 'production' },
      healthcheck: true,
    });
    const imageId = (await testDocker().getImage('helm-test/web:2').inspect()).Id;
    const job = await bed.bus.send({
      action: 'deploy',
      target: name,
      environment: 'production',
      reason: 'ship v2, watched in the log',
      params: { image: 'helm-test/web:2', image_id: imageId },
    });
    const pending = await waitForStatus(bed.bus.actions, job, 'pending_approval');
    await sleep(PARKED_MS);
    const approvedAt = Date.now();
    const req = await bed.approvalRequest(String(pending.approval_id));
    // The steps Warden reads show the stop's wait (this container sets none: Docker's 10 s).
    expect(req.steps.join('\n')).toMatch(
      /stop container .*, waiting up to 10 s \(Docker's default\) for it to exit/,
    );
    await bed.warden.decide(bed.approvals, req, 'approved');
    const result = (await job.waitUntilFinished(bed.bus.events, 90_000)) as Record<string, unknown>;
    expect(result).toMatchObject({ status: 'executed' });

    const ended = lines().filter((l) => l.msg === 'request ended' && l['job_id'] === job.id);
    expect(ended).toHaveLength(1);
    // At least the wait for Warden before the approval plus the stability window after it.
    const atLeast = approvedAt - job.timestamp + WINDOW_S * 1000;
    expect(ended[0]!['duration_ms']).toBeGreaterThanOrEqual(atLeast);

    // One info line per step of this deploy, each with its duration.
    const steps = lines().filter(
      (l) => l['service'] === name && l.level === 30 && typeof l['duration_ms'] === 'number',
    );
    const stepNames = new Set(steps.map((l) => l['step']));
    for (const step of [
      'stop_old',
      'create_new',
      'start_new',
      'health_check',
      'stability_window',
      'switch_replica',
    ])
      expect(stepNames, `an info line for step ${step}`).toContain(step);
    const window = steps.find((l) => l['step'] === 'stability_window')!;
    expect(window['duration_ms']).toBeGreaterThanOrEqual(WINDOW_S * 1000);
    const op = lines().find((l) => l.msg === 'operation ended' && l['service'] === name);
    expect(op?.['duration_ms']).toBeGreaterThanOrEqual(WINDOW_S * 1000);
  });
});
