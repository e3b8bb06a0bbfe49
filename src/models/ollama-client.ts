import { randomUUID } from 'node:crypto';
import { type ChatResponse, type Message, Ollama, type Tool } from 'ollama';
import { isPlainObject } from '../contracts/json-value.js';
import {
  type ChatMessage,
  type ChatRequest,
  type ChatResult,
  deadlineSignal,
  ModelCallError,
  type ModelClient,
  type ToolCall,
  tokenCount,
} from '../advisor/model-client.js';
import { parseLeakedToolCalls } from '../advisor/leaked-tool-calls.js';

export interface OllamaClientOptions {
  /** OLLAMA_HOST */
  host: string;
  /** HELM_MODEL_DEFAULT */
  model: string;
  /** HELM_ADVISOR_NUM_CTX: sent on every call; Ollama's own default (2048-4096) silently cuts prompts. */
  numCtx: number;
}

/**
 * A prompt is taken as cut when Ollama evaluated at least this share of the window. Ollama's runner
 * cuts an oversized prompt to exactly num_ctx tokens (prompt_eval_count == num_ctx); its server-side
 * trimming of old messages leaves it just under. Either way a prompt this close to the window is not
 * one the model saw whole, so Helm flags it rather than trusting the answer blindly.
 */
export const TRUNCATION_SHARE = 0.95;

/** The default model through the real `ollama` client: `/api/chat` non-streaming, `/api/tags`. */
export class OllamaModelClient implements ModelClient {
  readonly provider = 'ollama' as const;
  readonly model: string;

  constructor(private readonly opts: OllamaClientOptions) {
    this.model = opts.model;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const signal = deadlineSignal(request.deadline);
    const offerTools = !request.mustAnswer && request.tools.length > 0;
    let response: ChatResponse;
    try {
      response = await this.client(signal).chat({
        model: this.model,
        stream: false,
        messages: toOllamaMessages(request.system, request.messages),
        ...(offerTools ? { tools: request.tools.map(toOllamaTool) } : {}),
        // Structured output constrains every token to the schema, so a tool call could not be written:
        // the schema is sent only when the model must answer now.
        ...(request.mustAnswer ? { format: request.output.schema } : {}),
        options: { num_ctx: this.opts.numCtx, num_predict: request.maxTokens },
      });
    } catch (error) {
      throw ollamaFailure(error, signal);
    }
    if (!response || typeof response !== 'object' || typeof response.message !== 'object') {
      throw new ModelCallError('bad_response', 'Ollama answered without a message');
    }
    const offered = new Set(offerTools ? request.tools.map((t) => t.name) : []);
    const content = typeof response.message.content === 'string' ? response.message.content : '';
    const native = (response.message.tool_calls ?? [])
      .map((c) => ({ name: c?.function?.name, arguments: c?.function?.arguments }))
      .filter(
        (c): c is ToolCall => typeof c.name === 'string' && offered.has(c.name) && isPlainObject(c.arguments),
      );
    const leaked =
      native.length === 0 ? parseLeakedToolCalls(content, offered) : { calls: [], rest: content };
    const toolCalls = [...native, ...leaked.calls].map((c) => ({ ...c, id: `call_${randomUUID()}` }));
    const text = leaked.rest.trim() === '' ? undefined : leaked.rest;
    const answerValue = toolCalls.length === 0 && text !== undefined ? parseAnswer(text) : undefined;
    const promptTokens = tokenCount(response.prompt_eval_count);
    return {
      model: typeof response.model === 'string' ? response.model : this.model,
      text,
      toolCalls,
      answer: answerValue === undefined ? undefined : { value: answerValue, callId: undefined },
      usage: { promptTokens, outputTokens: tokenCount(response.eval_count) },
      truncated: promptTokens >= this.opts.numCtx * TRUNCATION_SHARE,
      stopReason: toolCalls.length > 0 ? 'tool_use' : ollamaStop(response.done_reason),
    };
  }

  async probe(deadline: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    const signal = deadlineSignal(deadline);
    try {
      const { models } = await this.client(signal).list();
      const names = new Set((models ?? []).flatMap((m) => [m.name, m.model]));
      if (names.has(this.model) || names.has(`${this.model}:latest`)) return { ok: true };
      return {
        ok: false,
        reason: `Ollama answers but has no model ${this.model} (ollama pull ${this.model})`,
      };
    } catch (error) {
      const failure = ollamaFailure(error, signal);
      return { ok: false, reason: `${failure.kind}: ${failure.message}` };
    }
  }

  /** One client per call: the package's non-streaming calls take no AbortSignal, its fetch hook does. */
  private client(signal: AbortSignal): Ollama {
    return new Ollama({ host: this.opts.host, fetch: (input, init) => fetch(input, { ...init, signal }) });
  }
}

function toOllamaMessages(system: string, messages: ReadonlyArray<ChatMessage>): Message[] {
  const out: Message[] = [{ role: 'system', content: system }];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'tool') out.push({ role: 'tool', content: m.content, tool_name: m.name });
    else
      out.push({
        role: 'assistant',
        content: m.content,
        ...(m.toolCalls.length > 0
          ? { tool_calls: m.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) }
          : {}),
      });
  }
  return out;
}

function toOllamaTool(tool: { name: string; description: string; inputSchema: object }): Tool {
  return {
    type: 'function',
    function: { name: tool.name, description: tool.description, parameters: tool.inputSchema },
  };
}

/** The answer as JSON: the whole text, or one ```json fenced block of it. */
function parseAnswer(text: string): unknown {
  const fenced = /^\s*```(?:json)?\s*([\s\S]*?)\s*```\s*$/.exec(text)?.[1];
  try {
    const value: unknown = JSON.parse(fenced ?? text);
    return isPlainObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function ollamaStop(reason: unknown): string {
  if (reason === 'stop') return 'end';
  if (reason === 'length') return 'max_tokens';
  return typeof reason === 'string' && reason !== '' ? reason : 'end';
}

export function ollamaFailure(error: unknown, signal: AbortSignal): ModelCallError {
  if (error instanceof ModelCallError) return error;
  if (signal.aborted) return new ModelCallError('timeout', 'Ollama did not answer before the deadline');
  const status = (error as { status_code?: unknown }).status_code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof status === 'number') {
    if (status === 429) return new ModelCallError('rate_limited', `Ollama: ${message}`, status);
    // Ollama answers 503 "server busy" when its queue of pending requests is full.
    if (status === 503) return new ModelCallError('overloaded', `Ollama: ${message}`, status);
    return new ModelCallError('http_error', `Ollama answered ${status}: ${message}`, status);
  }
  if (error instanceof SyntaxError) return new ModelCallError('bad_response', `Ollama: ${message}`);
  return new ModelCallError('unreachable', `Ollama at the configured host does not answer (${message})`);
}
