// Shared pieces of the advisor's model tests: the real clients pointed at loopback fakes, a logger
// whose lines the test reads back, the answer shape and a validator standing in for validateAdvice.
import { randomBytes } from 'node:crypto';
import { afterEach } from 'vitest';
import { AnthropicModelClient } from '../../../src/models/anthropic-client.js';
import type { OutputSpec } from '../../../src/advisor/model-client.js';
import type { ReadOnlyTool, Validation } from '../../../src/advisor/model-loop.js';
import { OllamaModelClient } from '../../../src/models/ollama-client.js';
import { type Logger, makeLogger } from '../../../src/log/logger.js';
import { Redactor } from '../../../src/log/redactor.js';
import { waitFor } from '../../helpers/containers.js';
import { testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';

export const NUM_CTX = 8192;
export const API_KEY = 'sk-ant-test-key-0123456789';

export const OUTPUT: OutputSpec = {
  name: 'submit_advice',
  description: 'The advice',
  schema: { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] },
};

/** Stands in for the advice schema's validator: `{ summary: string }`, nothing else. */
export function validateSummary(raw: unknown): Validation<{ summary: string }> {
  if (typeof raw !== 'object' || raw === null)
    return { ok: false, errors: ['the answer must be a JSON object'] };
  const summary = (raw as { summary?: unknown }).summary;
  if (typeof summary !== 'string' || summary === '')
    return { ok: false, errors: ['summary: must be a non-empty string'] };
  return { ok: true, value: { summary } };
}

/** A read-only tool that counts its runs. */
export function logsTool(): ReadOnlyTool & { runs: number } {
  const tool = {
    runs: 0,
    name: 'read_logs',
    description: 'Last log lines of a container',
    inputSchema: { type: 'object', properties: { target: { type: 'string' } }, required: ['target'] },
    async run(args: Record<string, unknown>) {
      tool.runs++;
      return `logs of ${String(args.target)}: Killed`;
    },
  };
  return tool;
}

export const ollamaClient = (host: string) =>
  new OllamaModelClient({ host, model: 'qwen3-coder', numCtx: NUM_CTX });
/** `null`: no ANTHROPIC_API_KEY. */
export const anthropicClient = (baseURL: string, apiKey: string | null = API_KEY) =>
  new AnthropicModelClient({ apiKey: apiKey ?? undefined, baseURL, model: 'claude-sonnet-4-6' });

export function capturedLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const redactor = new Redactor();
  redactor.add(API_KEY);
  const logger = makeLogger({
    level: 'debug',
    redactor,
    destination: { write: (l: string) => lines.push(l) },
  });
  return { logger, lines };
}

const fakes: Array<{ close(): Promise<void> }> = [];
/** Starts a fake and closes it after the test. */
export async function started<T extends { start(): Promise<T>; close(): Promise<void> }>(
  fake: T,
): Promise<T> {
  fakes.push(fake);
  return fake.start();
}
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

/**
 * A container that crashes for real under `on-failure:2` (the image's httpd, or `cmd`) and has given
 * up: exited, restarted twice. Returns its name.
 */
export async function crashLoopContainer(o: {
  stem: string;
  env?: string[];
  cmd?: string[];
}): Promise<string> {
  const name = `${o.stem}-${randomBytes(4).toString('hex')}`;
  const c = await testDocker().createContainer({
    name,
    Image: WEB_IMAGE_V1,
    ...(o.cmd ? { Cmd: o.cmd } : {}),
    Env: o.env ?? [],
    Labels: testLabels(),
    HostConfig: {
      NetworkMode: 'host',
      Init: true,
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 2 },
    },
  });
  await c.start();
  await waitFor(async () => {
    const i = await c.inspect();
    return i.RestartCount === 2 && !i.State.Running && !i.State.Restarting;
  }, 'the crashing container to give up');
  return name;
}

/** A Helm's env with the advisor on and its two models the given loopback fakes (both started). */
export function advisorOnEnv(ollama: { url: string }, anthropic: { url: string }): Record<string, string> {
  return {
    HELM_ADVISOR: 'on',
    OLLAMA_HOST: ollama.url,
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_API_KEY: `sk-ant-test-${randomBytes(8).toString('hex')}`,
  };
}
