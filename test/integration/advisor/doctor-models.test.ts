// `helm doctor`'s advisor lines against the loopback fakes: which models answer, warnings (never
// failures) for those that do not, and one line when the advisor is off.
import { describe, expect, it } from 'vitest';
import { advisorModelChecks } from '../../../src/cli/doctor-models.js';
import { loadConfig } from '../../../src/config/config.js';
import { FakeAnthropic } from '../../helpers/fake-anthropic.js';
import { FakeOllama } from '../../helpers/fake-ollama.js';
import { API_KEY, started } from './advisor-harness.js';

const base = { REDIS_URL: 'redis://127.0.0.1:6399' };

describe('helm doctor: advisor models', () => {
  it('both answer: ok, each named with its provider', async () => {
    const ollama = await started(new FakeOllama());
    const anthropic = await started(new FakeAnthropic());
    const config = loadConfig({
      ...base,
      OLLAMA_HOST: ollama.url,
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_API_KEY: API_KEY,
    });
    expect(await advisorModelChecks(config)).toEqual([
      { level: 'ok', name: 'advisor default model', message: 'qwen3-coder (ollama) answers' },
      { level: 'ok', name: 'advisor escalation model', message: 'claude-sonnet-4-6 (anthropic) answers' },
    ]);
  });

  it('a model not pulled and no API key: warnings that say what the advisor falls back to', async () => {
    const ollama = await started(new FakeOllama());
    ollama.models = ['llama3:latest'];
    const config = loadConfig({ ...base, OLLAMA_HOST: ollama.url });
    const [d, e] = await advisorModelChecks(config);
    expect(d).toMatchObject({ level: 'warn' });
    expect(d!.message).toContain('ollama pull qwen3-coder');
    expect(e).toMatchObject({ level: 'warn' });
    expect(e!.message).toMatch(/no_key.*escalations fall back to the default model/);
  });

  it('HELM_ADVISOR=off: one line, no probe', async () => {
    const checks = await advisorModelChecks(loadConfig({ ...base, HELM_ADVISOR: 'off' }));
    expect(checks).toEqual([
      { level: 'ok', name: 'advisor', message: 'off (HELM_ADVISOR=off): Helm runs without any model' },
    ]);
  });
});
