// Requests in plain words end to end: `helm ask` (askInPlainWords) on helm.requests, the handler of
// workers/requests.ts on a real worker, the real model clients against loopback fakes, and what it
// derives submitted to helm.actions of a real in-process Helm (so intake and the gate decide).
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeAnswer, askInPlainWords } from '../../../src/cli/ask-command.js';
import { type Config, loadConfig } from '../../../src/config/config.js';
import { makePlainRequestHandler } from '../../../workers/requests.js';
import { uniqueName } from '../../helpers/containers.js';
import { removeTestContainers, startWebService, testDocker, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import { anthropicToolUse, FakeAnthropic } from '../../helpers/fake-anthropic.js';
import { FakeOllama, ollamaText } from '../../helpers/fake-ollama.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { waitForStatus } from '../../helpers/warden.js';
import { advisorOnEnv, capturedLogger } from './advisor-harness.js';

let h: TestHelm;
let bus: BusClient;
let config: Config;
let staging: string;
let production: string;
const ollama = new FakeOllama([]);
const anthropic = new FakeAnthropic([]);

beforeAll(async () => {
  await ollama.start();
  await anthropic.start();
  // Helm's own helm.requests worker (src/wiring/advisor.ts), its models the loopback fakes.
  h = await startTestHelm({
    HELM_STABILITY_WINDOW_S: '1',
    HELM_HEALTH_TIMEOUT_S: '15',
    ...advisorOnEnv(ollama, anthropic),
  });
  bus = await busClient(h.prefix);
  config = loadConfig(h.env);
  staging = uniqueName('ask-web-s');
  production = uniqueName('ask-web-p');
  await startWebService({
    labels: { ...h.scopeLabel, 'ghost.service': staging, 'ghost.environment': 'staging' },
  });
  await startWebService({
    labels: { ...h.scopeLabel, 'ghost.service': production, 'ghost.environment': 'production' },
  });
});
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await ollama.close();
  await anthropic.close();
  await removeTestContainers();
});

const restart = (target: string, environment: string) => ({
  action: 'restart',
  target,
  environment,
  rationale: 'the owner asked',
  evidence_ids: [],
});
const mapping = (summary: string, proposals: unknown[], unknowns: string[] = []) => ({
  summary,
  findings: [],
  possible_causes: [],
  unknowns,
  proposals,
});
const ask = (text: string, submit = false) => askInPlainWords(config, text, { submit, timeoutMs: 30_000 });

async function actionJob(requestId: string): Promise<Job> {
  const jobs = await bus.actions.getJobs(['waiting', 'active', 'delayed', 'completed', 'failed']);
  const job = jobs.find((j) => j.data?.request_id === requestId);
  if (!job) throw new Error(`no helm.actions job for ${requestId}`);
  return job;
}

describe('helm ask', () => {
  it('"restart <web> in staging": submitted and executed by Helm; the same in production parks for Warden', async () => {
    ollama.answer([
      ollamaText(JSON.stringify(mapping('Restart it in staging.', [restart(staging, 'staging')]))),
      ollamaText(JSON.stringify(mapping('Restart it in production.', [restart(production, 'production')]))),
    ]);

    const s = await ask(`restart ${staging} in staging`);
    expect(s).toMatchObject({ outcome: 'submitted', model: 'qwen3-coder', escalated: false });
    expect(s.requests[0]!.request).toMatchObject({
      action: 'restart',
      target: staging,
      environment: 'staging',
    });
    await waitForStatus(bus.actions, await actionJob(s.requests[0]!.request_id!), 'executed');

    const p = await ask(`restart ${production} in production`);
    expect(p.outcome).toBe('submitted');
    await waitForStatus(bus.actions, await actionJob(p.requests[0]!.request_id!), 'pending_approval');
    expect(describeAnswer(p).exitCode).toBe(0);
  }, 60_000);

  it('"roll back <web> in staging" after a deploy: the rollback is submitted and Helm executes it', async () => {
    const name = uniqueName('ask-web-rb');
    const web = await startWebService({
      labels: { ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'staging' },
      healthcheck: true,
    });
    const deployed = await bus.request({
      action: 'deploy',
      target: name,
      environment: 'staging',
      reason: 'ship v2',
      params: { image: WEB_IMAGE_V2, image_id: (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id },
    });
    expect(deployed.status).toBe('executed');
    expect(await (await fetch(`${web.url}/`)).text()).toContain('version 2');
    const rollback = {
      action: 'rollback',
      target: name,
      environment: 'staging',
      rationale: 'asked',
      evidence_ids: [],
    };
    ollama.answer([ollamaText(JSON.stringify(mapping('Roll it back.', [rollback])))]);

    const answer = await ask(`roll back ${name} in staging`);

    expect(answer.outcome).toBe('submitted');
    await waitForStatus(bus.actions, await actionJob(answer.requests[0]!.request_id!), 'executed', 60_000);
    expect(await (await fetch(`${web.url}/`)).text()).toContain('version 1');
  }, 120_000);

  it('an ambiguous request gets a clear question back, and nothing is submitted', async () => {
    ollama.answer([
      ollamaText(JSON.stringify(mapping('Unclear.', [], ['Which service, and in which environment?']))),
    ]);
    const before = await bus.actions.getJobCounts();

    const answer = await ask('restart it');

    expect(answer).toMatchObject({ outcome: 'question', requests: [] });
    expect(answer.question).toContain('Which service, and in which environment?');
    expect(describeAnswer(answer).exitCode).toBe(2);
    expect(await bus.actions.getJobCounts()).toEqual(before);
  });

  it('a multi-service request: a plan from the escalation model, shown in full, submitted only with --submit', async () => {
    const plan = mapping('Restart both.', [restart(staging, 'staging'), restart(production, 'production')]);
    anthropic.answer(() => anthropicToolUse([{ name: 'submit_advice', input: plan }]));
    const callsBefore = ollama.calls.length;
    const before = await bus.actions.getJobCounts();

    const shown = await ask(`restart ${staging} and ${production}`);

    expect(shown).toMatchObject({
      outcome: 'plan',
      model: 'claude-sonnet-4-6',
      escalated: true,
      trigger: 'multi_service',
    });
    expect(shown.requests.map((r) => [r.request.target, r.submitted])).toEqual([
      [staging, false],
      [production, false],
    ]);
    expect(describeAnswer(shown).text).toContain('run again with --submit');
    expect(await bus.actions.getJobCounts()).toEqual(before);
    expect(ollama.calls.length).toBe(callsBefore);

    const submitted = await ask(`restart ${staging} and ${production}`, true);
    expect(submitted.requests.every((r) => r.submitted)).toBe(true);
    await waitForStatus(bus.actions, await actionJob(submitted.requests[0]!.request_id!), 'executed');
    await waitForStatus(bus.actions, await actionJob(submitted.requests[1]!.request_id!), 'pending_approval');
  }, 60_000);

  it('job data that is not a request in plain words is answered with what is wrong', async () => {
    const handler = makePlainRequestHandler({
      models: { run: async () => Promise.reject(new Error('never asked')) },
      submit: async () => undefined,
      knownServices: async () => [],
      secretValues: async () => [],
      log: capturedLogger().logger,
      timeoutMs: 1000,
      now: () => new Date(),
    });
    const answer = await handler({ id: '1', data: { text: 'deploy', approve: true } });
    expect(answer).toMatchObject({ outcome: 'question', model: null });
    expect(answer.question).toMatch(/requested_by/);
  });
});
