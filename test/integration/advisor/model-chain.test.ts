// The fallback chain with the real clients against loopback fakes: escalation → default → no model,
// the degraded signal, and what every call leaves in the log.
import { describe, expect, it } from 'vitest';
import type { ModelClient } from '../../../src/advisor/model-client.js';
import { type ChainOutcome, ModelChain, modelChainFromConfig } from '../../../src/models/model-call.js';
import { loadConfig } from '../../../src/config/config.js';
import { type LoopResult, runModelLoop } from '../../../src/advisor/model-loop.js';
import { anthropicToolUse, FakeAnthropic, overloaded, rateLimited } from '../../helpers/fake-anthropic.js';
import { FakeOllama, ollamaError, ollamaText } from '../../helpers/fake-ollama.js';
import {
  API_KEY,
  anthropicClient,
  capturedLogger,
  logsTool,
  OUTPUT,
  ollamaClient,
  started,
  validateSummary,
} from './advisor-harness.js';

const CANARY = 'canary-evidence-7f3a9c';

async function fakes(ollama: FakeOllama, anthropic: FakeAnthropic, apiKey?: string | null) {
  await started(ollama);
  await started(anthropic);
  const { logger, lines } = capturedLogger();
  const events: string[] = [];
  const chain = new ModelChain({
    defaultClient: ollamaClient(ollama.url),
    escalationClient: anthropicClient(anthropic.url, apiKey),
    logger,
    onDegraded: () => events.push('degraded'),
    onResolved: ({ model }) => events.push(`resolved:${model}`),
  });
  const ask = (escalate: boolean): Promise<ChainOutcome<LoopResult<{ summary: string }>>> =>
    chain.run(escalate, ({ client, escalated }) =>
      runModelLoop({
        client,
        escalated,
        system: 'You advise.',
        prompt: `Evidence: ${CANARY}`,
        tools: [logsTool()],
        output: OUTPUT,
        validate: validateSummary,
        deadline: Date.now() + 20_000,
        callTimeoutMs: 2000,
      }),
    );
  return { ask, events, lines, chain };
}

const qwenAnswer = () => ollamaText('{"summary":"OOM killed (qwen)"}');

describe('model fallback chain', () => {
  it('escalation answering: Anthropic is asked, Ollama is not', async () => {
    const anthropic = new FakeAnthropic([
      anthropicToolUse([{ name: 'submit_advice', input: { summary: 'OOM' } }]),
    ]);
    const ollama = new FakeOllama([]);
    const { ask } = await fakes(ollama, anthropic);
    const out = await ask(true);
    expect(out).toMatchObject({ model: 'claude-sonnet-4-6', escalated: true, fellBack: null });
    expect(out.model && out.value).toMatchObject({ outcome: 'answered', value: { summary: 'OOM' } });
    expect(ollama.calls).toHaveLength(0);
  });

  it('escalation answering 429: the default model answers and the outcome says it fell back and why', async () => {
    const anthropic = new FakeAnthropic([rateLimited()]);
    const ollama = new FakeOllama([qwenAnswer()]);
    const { ask } = await fakes(ollama, anthropic);
    const out = await ask(true);
    expect(out).toMatchObject({
      model: 'qwen3-coder',
      escalated: false,
      fellBack: { model: 'claude-sonnet-4-6', kind: 'rate_limited' },
      value: { outcome: 'answered', value: { summary: 'OOM killed (qwen)' } },
    });
    expect(out.note).toMatch(/claude-sonnet-4-6 did not answer \(rate_limited.*qwen3-coder answered instead/);
    expect(anthropic.calls).toHaveLength(1);
  });

  it('escalation 529 and escalation timeout fall back the same way', async () => {
    const anthropic = new FakeAnthropic([overloaded(), anthropicToolUse([], { delayMs: 20_000 })]);
    const ollama = new FakeOllama([qwenAnswer(), qwenAnswer()]);
    const { ask } = await fakes(ollama, anthropic);
    expect((await ask(true)).note).toMatch(/overloaded/);
    const timedOut = await ask(true);
    expect(timedOut).toMatchObject({ model: 'qwen3-coder', fellBack: { kind: 'timeout' } });
  });

  it('no Anthropic key: the default model answers, and nothing is sent to Anthropic', async () => {
    const anthropic = new FakeAnthropic([]);
    const ollama = new FakeOllama([qwenAnswer()]);
    const { ask } = await fakes(ollama, anthropic, null);
    const out = await ask(true);
    expect(out).toMatchObject({ model: 'qwen3-coder', fellBack: { kind: 'no_key' } });
    expect(anthropic.requests).toHaveLength(0);
  });

  it('a non-escalated question asks only the default model', async () => {
    const anthropic = new FakeAnthropic([]);
    const ollama = new FakeOllama([qwenAnswer()]);
    const { ask } = await fakes(ollama, anthropic);
    expect(await ask(false)).toMatchObject({ model: 'qwen3-coder', escalated: false, fellBack: null });
    expect(anthropic.requests).toHaveLength(0);
  });

  it('both down: model null (the deterministic summary, saying so); degraded once, resolved once', async () => {
    const anthropic = new FakeAnthropic([overloaded(), overloaded(), overloaded()]);
    const ollama = new FakeOllama([
      ollamaError(500, 'llama runner process has terminated'),
      ollamaError(503, 'server busy'),
      qwenAnswer(),
      qwenAnswer(),
    ]);
    const { ask, events, chain } = await fakes(ollama, anthropic);
    const first = await ask(true);
    expect(first).toMatchObject({
      model: null,
      tried: [
        { model: 'claude-sonnet-4-6', kind: 'overloaded' },
        { model: 'qwen3-coder', kind: 'http_error' },
      ],
    });
    expect(first.note).toMatch(/No model answered .*deterministic evidence summary alone/);
    expect(await ask(true)).toMatchObject({ model: null });
    expect(events).toEqual(['degraded']);
    expect(chain.isDegraded).toBe(true);
    expect(await ask(true)).toMatchObject({ model: 'qwen3-coder' });
    expect(await ask(false)).toMatchObject({ model: 'qwen3-coder' });
    expect(events).toEqual(['degraded', 'resolved:qwen3-coder']);
  });

  it('logs every call (model, latency, tokens, outcome) and never the prompt or the key', async () => {
    const anthropic = new FakeAnthropic([rateLimited()]);
    const ollama = new FakeOllama([ollamaText('{"summary":"x"}', { promptEvalCount: 321, evalCount: 12 })]);
    const { ask, lines } = await fakes(ollama, anthropic);
    await ask(true);
    const calls = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => /^model call/.test(String(l.msg)));
    expect(calls).toEqual([
      expect.objectContaining({
        provider: 'anthropic',
        model: 'claude-sonnet-4-6',
        outcome: 'failed',
        kind: 'rate_limited',
        status: 429,
        latencyMs: expect.any(Number),
      }),
      expect.objectContaining({
        provider: 'ollama',
        model: 'qwen3-coder',
        outcome: 'answered',
        promptTokens: 321,
        outputTokens: 12,
        latencyMs: expect.any(Number),
      }),
    ]);
    const all = lines.join('\n');
    expect(all).not.toContain(CANARY);
    expect(all).not.toContain('sk-ant-test-key');
    // The request did carry the evidence: the fakes saw it.
    expect(ollama.everythingReceived()).toContain(CANARY);
  });
});

describe('modelChainFromConfig', () => {
  it('builds the chain from Helm’s configuration: OLLAMA_HOST, ANTHROPIC_BASE_URL, the key and the model names', async () => {
    const anthropic = await started(
      new FakeAnthropic([
        anthropicToolUse([{ name: 'submit_advice', input: { summary: 'x' } }], { model: 'claude-x' }),
      ]),
    );
    const ollama = await started(new FakeOllama([qwenAnswer()]));
    const config = loadConfig({
      OLLAMA_HOST: ollama.url,
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: API_KEY,
      HELM_MODEL_DEFAULT: 'qwen3-coder:30b',
      HELM_MODEL_ESCALATION: 'claude-x',
      HELM_ADVISOR_NUM_CTX: '4096',
    });
    const chain = modelChainFromConfig(config, capturedLogger().logger);
    const call = ({ client }: { client: ModelClient }) =>
      client.chat({
        system: 's',
        messages: [{ role: 'user', content: 'q' }],
        tools: [],
        output: OUTPUT,
        mustAnswer: true,
        maxTokens: 64,
        deadline: Date.now() + 5000,
      });
    expect(await chain.run(true, call)).toMatchObject({ model: 'claude-x', escalated: true });
    expect(await chain.run(false, call)).toMatchObject({ model: 'qwen3-coder:30b' });
    expect(anthropic.calls[0]?.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(anthropic.calls[0]?.body).toMatchObject({ model: 'claude-x' });
    expect(ollama.calls[0]?.body).toMatchObject({ model: 'qwen3-coder:30b', options: { num_ctx: 4096 } });
  });
});
