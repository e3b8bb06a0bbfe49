// The deploy review for Warden on a real container: a production deploy of a service labelled
// ghost.zero-downtime=true gets an advisory `advice` job from the escalation model (its default-model
// fallback said so); a plain recreate deploy of an unlabelled service gets none and asks no model.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeDeployReviewer, type ParkedRequest } from '../../../src/advisor/deploy-review.js';
import { systemClock } from '../../../src/base/clock.js';
import { type AdviceJob, AdviceJobSchema, hashCanonical, type Plan } from '../../../src/contracts/index.js';
import { makeDockerEvidenceReads } from '../../../src/docker/dockerode-evidence.js';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import { ModelChain } from '../../../src/models/model-call.js';
import { gatherEvidence } from '../../../src/observe/gather-evidence.js';
import { makeReleaseStore } from '../../../src/releases/release-store.js';
import { runScriptContainer } from '../../helpers/containers.js';
import { removeTestContainers, testDocker, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import { anthropicToolUse, FakeAnthropic, rateLimited } from '../../helpers/fake-anthropic.js';
import { FakeOllama, ollamaText } from '../../helpers/fake-ollama.js';
import { anthropicClient, capturedLogger, ollamaClient, started } from './advisor-harness.js';

afterAll(async () => {
  await removeTestContainers();
});

const review = {
  summary: 'The new image changes nothing the health check misses; the host has room for both.',
  findings: [{ statement: 'one container runs now, healthy', evidence_ids: ['inspect'] }],
  possible_causes: [],
  unknowns: ['whether the new image migrates the database'],
  proposals: [{ action: 'stop', target: 'x', rationale: 'ignored', evidence_ids: [] }],
};

async function parkedDeploy(labels: Record<string, string>): Promise<ParkedRequest> {
  const { id, name } = await runScriptContainer('echo ready; sleep 300', { labels });
  const info = await testDocker().getContainer(id).inspect();
  const plan: Plan = {
    plan_version: 1,
    action: 'deploy',
    host: 'local',
    service: name,
    environment: 'production',
    request_id: null,
    requested_by: 'forge',
    preconditions: { containers: [{ id, image_id: info.Image, config_hmac: 'a'.repeat(64) }] },
    desired: {
      image: WEB_IMAGE_V2,
      image_id: `sha256:${'b'.repeat(64)}`,
      manifest_digest: null,
      artifact_id: null,
      strategy: 'recreate',
      replaces_release: null,
      new_release: `${name}:r2`,
    },
  };
  return { approval_id: crypto.randomUUID(), plan_hash: hashCanonical(plan), plan };
}

async function reviewer(ollama: FakeOllama, anthropic: FakeAnthropic) {
  await started(ollama);
  await started(anthropic);
  const { logger } = capturedLogger();
  const sent: AdviceJob[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'helm-review-test-'));
  const evidence = {
    docker: makeDockerReads(undefined),
    evidenceReads: makeDockerEvidenceReads(undefined),
    releases: makeReleaseStore(dir),
    runLogEntries: async () => [],
    clock: systemClock,
  };
  const r = makeDeployReviewer({
    models: new ModelChain({
      defaultClient: ollamaClient(ollama.url),
      escalationClient: anthropicClient(anthropic.url),
      logger,
    }),
    gather: (req) => gatherEvidence(evidence, req),
    serviceLabels: async (service) => (await testDocker().getContainer(service).inspect()).Config.Labels,
    secretValues: async () => [],
    sendAdvice: async (job) => {
      sent.push(job);
    },
    log: logger,
    timeoutMs: 20_000,
    callTimeoutMs: 5000,
    now: () => new Date(),
  });
  return { r, sent };
}

describe('deploy review for Warden', () => {
  it('a zero-downtime production deploy: advice from the escalation model, advisory, linked to the parked request', async () => {
    const parked = await parkedDeploy({ 'ghost.zero-downtime': 'true' });
    const anthropic = new FakeAnthropic([anthropicToolUse([{ name: 'submit_advice', input: review }])]);
    const ollama = new FakeOllama([]);
    const { r, sent } = await reviewer(ollama, anthropic);

    r.onParked(parked);
    await r.idle();

    expect(sent).toHaveLength(1);
    expect(AdviceJobSchema.safeParse(sent[0]).success).toBe(true);
    expect(sent[0]).toMatchObject({
      advisory: true,
      approval_id: parked.approval_id,
      plan_hash: parked.plan_hash,
      model: 'claude-sonnet-4-6',
      escalated: true,
      trigger: 'zero_downtime_deploy',
      summary: review.summary,
    });
    expect(ollama.calls).toHaveLength(0);
    expect(anthropic.calls[0]!.raw).toContain('helm-test/web:2');
  });

  it('the escalation model rate-limited: the default model reviews it, and the advice says so', async () => {
    const parked = await parkedDeploy({ 'ghost.zero-downtime': 'true' });
    const anthropic = new FakeAnthropic(() => rateLimited());
    const ollama = new FakeOllama([ollamaText(JSON.stringify(review))]);
    const { r } = await reviewer(ollama, anthropic);

    const job = await r.review(parked);

    expect(job).toMatchObject({ model: 'qwen3-coder', escalated: false, trigger: 'zero_downtime_deploy' });
    expect(job!.note).toMatch(/did not answer \(rate_limited/);
  });

  it('a recreate deploy of a service not marked zero-downtime: no review, no model asked', async () => {
    const parked = await parkedDeploy({ 'ghost.zero-downtime': 'yes' });
    const anthropic = new FakeAnthropic([]);
    const ollama = new FakeOllama([]);
    const { r, sent } = await reviewer(ollama, anthropic);

    expect(await r.review(parked)).toBeNull();
    expect(sent).toEqual([]);
    expect(anthropic.calls.length + ollama.calls.length).toBe(0);
  });
});
