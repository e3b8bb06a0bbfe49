// A fake Ollama on 127.0.0.1 speaking the real wire format the `ollama` package expects:
// POST /api/chat (non-streaming: one JSON object with `message`, `done`, `done_reason`,
// `prompt_eval_count`, `eval_count`), GET /api/tags (the pulled models), GET /api/version.
// Errors are `{ "error": "..." }` with an HTTP status, as Ollama sends them.
import { FakeModelServer, type Reply, type Script } from './fake-model-server.js';

export type { Reply, Script } from './fake-model-server.js';

export interface OllamaReplyOptions {
  model?: string;
  promptEvalCount?: number;
  evalCount?: number;
  doneReason?: string;
  delayMs?: number;
}

function chatReply(message: Record<string, unknown>, o: OllamaReplyOptions): Reply {
  return {
    delayMs: o.delayMs,
    body: {
      model: o.model ?? 'qwen3-coder',
      created_at: new Date().toISOString(),
      message: { role: 'assistant', ...message },
      done: true,
      done_reason: o.doneReason ?? 'stop',
      total_duration: 1_000_000,
      load_duration: 1000,
      prompt_eval_count: o.promptEvalCount ?? 100,
      prompt_eval_duration: 1000,
      eval_count: o.evalCount ?? 20,
      eval_duration: 1000,
    },
  };
}

/** The model writes text (content). */
export function ollamaText(content: string, o: OllamaReplyOptions = {}): Reply {
  return chatReply({ content }, o);
}

/** The model calls tools the native way: `tool_calls[].function.{name, arguments(object)}`. */
export function ollamaToolCalls(
  calls: ReadonlyArray<{ name: string; arguments: Record<string, unknown> }>,
  o: OllamaReplyOptions = {},
): Reply {
  return chatReply(
    {
      content: '',
      tool_calls: calls.map((c, index) => ({ function: { index, name: c.name, arguments: c.arguments } })),
    },
    o,
  );
}

export function ollamaError(status: number, message: string): Reply {
  return { status, body: { error: message } };
}

export class FakeOllama extends FakeModelServer {
  /** What /api/tags lists. */
  models: string[] = ['qwen3-coder:latest'];

  constructor(script: Script = []) {
    super(
      'fake Ollama',
      (r) => r.method === 'POST' && r.path === '/api/chat',
      (r) => {
        if (r.method === 'GET' && r.path === '/api/tags')
          return {
            body: { models: this.models.map((name) => ({ name, model: name, size: 1, digest: 'sha256:0' })) },
          };
        if (r.method === 'GET' && r.path === '/api/version') return { body: { version: '0.12.0' } };
        return undefined;
      },
      ollamaError,
    );
    this.answer(script);
  }
}
