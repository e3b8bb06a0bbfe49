// A fake Anthropic Messages API on 127.0.0.1 speaking the wire format `@anthropic-ai/sdk` expects:
// POST /v1/messages answers a Message (`content` blocks of type text / tool_use, `stop_reason`,
// `usage.input_tokens/output_tokens`); errors are `{ type: 'error', error: { type, message } }` with
// the API's statuses (429 rate_limit_error, 529 overloaded_error, ...). GET /v1/models/:id answers
// for any model in `models`.
import { randomUUID } from 'node:crypto';
import { FakeModelServer, type Reply, type Script } from './fake-model-server.js';

export type { Reply, Script } from './fake-model-server.js';

export interface AnthropicReplyOptions {
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
  stopReason?: string;
  delayMs?: number;
}

export type AnthropicBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string };

export function anthropicMessage(
  blocks: ReadonlyArray<AnthropicBlock>,
  o: AnthropicReplyOptions = {},
): Reply {
  const content = blocks.map((b) =>
    b.type === 'text'
      ? b
      : { type: 'tool_use', id: b.id ?? `toolu_${randomUUID()}`, name: b.name, input: b.input },
  );
  return {
    delayMs: o.delayMs,
    body: {
      id: `msg_${randomUUID()}`,
      type: 'message',
      role: 'assistant',
      model: o.model ?? 'claude-sonnet-4-6',
      content,
      stop_reason: o.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      stop_sequence: null,
      usage: {
        input_tokens: o.inputTokens ?? 100,
        output_tokens: o.outputTokens ?? 20,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    },
  };
}

export function anthropicText(text: string, o: AnthropicReplyOptions = {}): Reply {
  return anthropicMessage([{ type: 'text', text }], o);
}

export function anthropicToolUse(
  calls: ReadonlyArray<{ name: string; input: Record<string, unknown> }>,
  o: AnthropicReplyOptions = {},
): Reply {
  return anthropicMessage(
    calls.map((c) => ({ type: 'tool_use', ...c })),
    o,
  );
}

export function anthropicError(status: number, type: string, message: string): Reply {
  return { status, body: { type: 'error', error: { type, message } } };
}

export const rateLimited = (): Reply =>
  anthropicError(429, 'rate_limit_error', 'Number of requests exceeded');
export const overloaded = (): Reply => anthropicError(529, 'overloaded_error', 'Overloaded');

export class FakeAnthropic extends FakeModelServer {
  models: string[] = ['claude-sonnet-4-6'];

  constructor(script: Script = []) {
    super(
      'fake Anthropic',
      (r) => r.method === 'POST' && r.path.split('?')[0] === '/v1/messages',
      (r) => {
        const id = /^\/v1\/models\/([^/?]+)/.exec(r.path)?.[1];
        if (r.method !== 'GET' || !id) return undefined;
        return this.models.includes(decodeURIComponent(id))
          ? { body: { type: 'model', id, display_name: id, created_at: '2026-01-01T00:00:00Z' } }
          : anthropicError(404, 'not_found_error', `model: ${id}`);
      },
      (status, message) => anthropicError(status, 'api_error', message),
    );
    this.answer(script);
  }
}
