// The deploy review inside a real Helm (src/wiring/advisor.ts, GateDeps.onParked): a production deploy
// of a service marked ghost.zero-downtime=true parks for Warden as always, and then an `advice` job
// from the escalation model follows on warden.requests, linked by approval_id, marked advisory. The
// ApprovalRequest never waits for it, and the advice approves nothing: the request stays parked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADVICE_JOB_NAME, AdviceJobSchema } from '../../../src/contracts/index.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { removeTestContainers, startWebService, testDocker, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import { anthropicToolUse, FakeAnthropic } from '../../helpers/fake-anthropic.js';
import { advisorOnEnv } from './advisor-harness.js';
import { FakeOllama } from '../../helpers/fake-ollama.js';
import { startWardenBed, type WardenBed, waitForStatus } from '../../helpers/warden.js';

const review = {
  summary: 'The new image keeps the health check; the host has room to run old and new at once.',
  findings: [{ statement: 'one replica runs now, healthy', evidence_ids: ['inspect'] }],
  possible_causes: [],
  unknowns: [],
  proposals: [],
};
const anthropic = new FakeAnthropic([anthropicToolUse([{ name: 'submit_advice', input: review }])]);
const ollama = new FakeOllama([]);
let bed: WardenBed;

beforeAll(async () => {
  await anthropic.start();
  await ollama.start();
  bed = await startWardenBed({
    ...advisorOnEnv(ollama, anthropic),
  });
});

afterAll(async () => {
  await bed?.close();
  await anthropic.close();
  await ollama.close();
  await removeTestContainers();
});

describe('the deploy review from a running Helm', () => {
  it('a zero-downtime production deploy parks for Warden, then the escalation model’s advice follows', async () => {
    const name = uniqueName('review-e2e');
    await startWebService({
      labels: {
        ...bed.h.scopeLabel,
        'ghost.service': name,
        'ghost.environment': 'production',
        'ghost.zero-downtime': 'true',
      },
      healthcheck: true,
    });
    const job = await bed.bus.send({
      action: 'deploy',
      target: name,
      environment: 'production',
      reason: 'ship v2',
      params: { image: WEB_IMAGE_V2, image_id: (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id },
    });
    const pending = await waitForStatus(bed.bus.actions, job, 'pending_approval');
    const approvalId = String(pending.approval_id);
    const request = await bed.approvalRequest(approvalId);

    const advice = await waitFor(
      async () =>
        (await bed.wardenRequests.getJobs(['waiting', 'active', 'completed'], 0, -1)).find(
          (j) => j.name === ADVICE_JOB_NAME && j.data?.approval_id === approvalId,
        ),
      'the advice job on warden.requests',
      30_000,
    );
    expect(AdviceJobSchema.safeParse(advice.data).success).toBe(true);
    expect(advice.data).toMatchObject({
      advisory: true,
      approval_id: approvalId,
      plan_hash: request.plan_hash,
      model: 'claude-sonnet-4-6',
      escalated: true,
      trigger: 'zero_downtime_deploy',
      summary: review.summary,
    });
    expect(ollama.calls).toHaveLength(0);
    // Advice is no decision: the request is still waiting for Warden.
    expect((await bed.bus.actions.getJob(String(job.id)))?.progress).toMatchObject({
      status: 'pending_approval',
    });
  });
});
