// `helm doctor`'s advisor lines: which models answer. A model that does not answer is a warning, never
// a failure: Helm's core never waits on a model, and the advisor falls back (escalation → default →
// Helm's deterministic evidence summary). Nothing is sent to a model but a listing or a model lookup.
import type { ModelClient } from '../advisor/model-client.js';
import type { Config } from '../config/config.js';
import { AnthropicModelClient } from '../models/anthropic-client.js';
import { OllamaModelClient } from '../models/ollama-client.js';

export interface ModelCheck {
  level: 'ok' | 'warn';
  name: string;
  message: string;
}

export async function advisorModelChecks(
  config: Readonly<Pick<Config, 'ollamaHost' | 'anthropicApiKey' | 'advisor'>>,
  timeoutMs = 5000,
): Promise<ModelCheck[]> {
  if (!config.advisor.enabled)
    return [{ level: 'ok', name: 'advisor', message: 'off (HELM_ADVISOR=off): Helm runs without any model' }];
  const defaultClient = new OllamaModelClient({
    host: config.ollamaHost,
    model: config.advisor.defaultModel,
    numCtx: config.advisor.numCtx,
  });
  const escalationClient = new AnthropicModelClient({
    apiKey: config.anthropicApiKey,
    baseURL: config.advisor.anthropicBaseUrl,
    model: config.advisor.escalationModel,
  });
  const deadline = Date.now() + timeoutMs;
  const [d, e] = await Promise.all([defaultClient.probe(deadline), escalationClient.probe(deadline)]);
  return [
    line(
      'advisor default model',
      defaultClient,
      d,
      "the advisor falls back to Helm's evidence summary alone",
    ),
    line('advisor escalation model', escalationClient, e, 'escalations fall back to the default model'),
  ];
}

function line(
  name: string,
  client: ModelClient,
  probe: { ok: true } | { ok: false; reason: string },
  fallback: string,
): ModelCheck {
  const where = `${client.model} (${client.provider})`;
  return probe.ok
    ? { level: 'ok', name, message: `${where} answers` }
    : { level: 'warn', name, message: `${where} does not answer (${probe.reason}): ${fallback}` };
}
