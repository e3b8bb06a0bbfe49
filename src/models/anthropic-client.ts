import Anthropic, { APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { ContentBlockParam, Message, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { isPlainObject } from '../contracts/json-value.js';
import type { ChatMessage, ChatRequest, ChatResult, ModelClient, ToolCall } from '../advisor/model-client.js';
import { deadlineSignal, ModelCallError, tokenCount } from '../advisor/model-client.js';

export interface AnthropicClientOptions {
  /** ANTHROPIC_API_KEY; undefined: every call fails at once as `no_key` (the chain falls back). */
  apiKey: string | undefined;
  /** ANTHROPIC_BASE_URL */
  baseURL: string;
  /** HELM_MODEL_ESCALATION */
  model: string;
  /**
   * The SDK's own retries (it retries 408/409/429/5xx with backoff, 2 by default). Helm's answer to an
   * unavailable escalation model is the default model, at once, not minutes of backoff during an
   * outage; so 0 unless the caller says otherwise.
   */
  maxRetries?: number;
}

/** The escalation model through the real `@anthropic-ai/sdk`: `/v1/messages`, forced tool for the answer. */
export class AnthropicModelClient implements ModelClient {
  readonly provider = 'anthropic' as const;
  readonly model: string;
  private readonly sdk: Anthropic | undefined;

  constructor(opts: AnthropicClientOptions) {
    this.model = opts.model;
    // Built only with a key in hand: without one the SDK would look through the environment and
    // credential profiles for another.
    this.sdk = opts.apiKey
      ? new Anthropic({
          apiKey: opts.apiKey,
          baseURL: opts.baseURL,
          maxRetries: opts.maxRetries ?? 0,
          // Its debug level logs request bodies (evidence) to the console: never, whatever ANTHROPIC_LOG says.
          logLevel: 'off',
        })
      : undefined;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const sdk = this.requireSdk();
    const signal = deadlineSignal(request.deadline);
    const outputTool: Tool = {
      name: request.output.name,
      description: request.output.description,
      input_schema: { ...request.output.schema, type: 'object' },
    };
    const tools = request.mustAnswer ? [outputTool] : [...request.tools.map(toAnthropicTool), outputTool];
    let message: Message;
    try {
      message = await sdk.messages.create(
        {
          model: this.model,
          max_tokens: request.maxTokens,
          system: request.system,
          messages: toAnthropicMessages(request.messages),
          tools,
          // On the last step the model must fill in the answer: forced tool, no other choice.
          tool_choice: request.mustAnswer ? { type: 'tool', name: outputTool.name } : { type: 'auto' },
        },
        { signal, timeout: Math.max(1, request.deadline - Date.now()) },
      );
    } catch (error) {
      throw anthropicFailure(error, signal);
    }
    if (!message || !Array.isArray(message.content)) {
      throw new ModelCallError('bad_response', 'Anthropic answered without content blocks');
    }
    const offered = new Set(request.mustAnswer ? [] : request.tools.map((t) => t.name));
    const toolCalls: ToolCall[] = [];
    let answer: ChatResult['answer'];
    const texts: string[] = [];
    for (const block of message.content) {
      if (block.type === 'text') texts.push(block.text);
      if (block.type !== 'tool_use') continue;
      if (block.name === outputTool.name && answer === undefined)
        answer = { value: block.input, callId: block.id };
      else if (offered.has(block.name) && isPlainObject(block.input))
        toolCalls.push({ id: block.id, name: block.name, arguments: block.input });
    }
    const text = texts.join('\n').trim();
    return {
      model: typeof message.model === 'string' ? message.model : this.model,
      text: text === '' ? undefined : text,
      toolCalls,
      answer,
      usage: {
        promptTokens: tokenCount(message.usage?.input_tokens),
        outputTokens: tokenCount(message.usage?.output_tokens),
      },
      // Anthropic refuses an oversized prompt (400) instead of cutting it.
      truncated: false,
      stopReason: anthropicStop(message.stop_reason),
    };
  }

  async probe(deadline: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    const signal = deadlineSignal(deadline);
    try {
      await this.requireSdk().models.retrieve(this.model, {}, { signal });
      return { ok: true };
    } catch (error) {
      const failure = anthropicFailure(error, signal);
      return { ok: false, reason: `${failure.kind}: ${failure.message}` };
    }
  }

  private requireSdk(): Anthropic {
    if (!this.sdk) throw new ModelCallError('no_key', 'no ANTHROPIC_API_KEY is set');
    return this.sdk;
  }
}

function toAnthropicTool(tool: { name: string; description: string; inputSchema: object }): Tool {
  return {
    name: tool.name,
    description: tool.description,
    input_schema: { ...tool.inputSchema, type: 'object' },
  };
}

/** Tool answers go back as tool_result blocks in one user turn, right after the assistant's tool_use turn. */
function toAnthropicMessages(messages: ReadonlyArray<ChatMessage>): MessageParam[] {
  const out: MessageParam[] = [];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'assistant') {
      const blocks: ContentBlockParam[] = m.content ? [{ type: 'text', text: m.content }] : [];
      for (const c of m.toolCalls)
        blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments });
      out.push({ role: 'assistant', content: blocks.length > 0 ? blocks : '' });
    } else {
      const result: ContentBlockParam = {
        type: 'tool_result',
        tool_use_id: m.toolCallId,
        content: m.content,
        ...(m.isError ? { is_error: true } : {}),
      };
      const last = out[out.length - 1];
      if (last?.role === 'user' && Array.isArray(last.content)) last.content.push(result);
      else out.push({ role: 'user', content: [result] });
    }
  }
  return out;
}

function anthropicStop(reason: unknown): string {
  if (reason === 'end_turn' || reason === 'stop_sequence') return 'end';
  return typeof reason === 'string' && reason !== '' ? reason : 'end';
}

export function anthropicFailure(error: unknown, signal: AbortSignal): ModelCallError {
  if (error instanceof ModelCallError) return error;
  if (signal.aborted || error instanceof APIUserAbortError || error instanceof APIConnectionTimeoutError) {
    return new ModelCallError('timeout', 'Anthropic did not answer before the deadline');
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    // The API's own error type names the cause; the HTTP status is the fallback.
    const type = (error.error as { error?: { type?: unknown } } | undefined)?.error?.type;
    const said = `Anthropic answered ${error.status}${typeof type === 'string' ? ` ${type}` : ''}`;
    if (error.status === 429 || type === 'rate_limit_error')
      return new ModelCallError('rate_limited', said, error.status);
    if (error.status === 529 || type === 'overloaded_error')
      return new ModelCallError('overloaded', said, error.status);
    return new ModelCallError('http_error', said, error.status);
  }
  if (error instanceof APIError)
    return new ModelCallError('unreachable', `Anthropic does not answer (${error.message})`);
  return new ModelCallError(
    'bad_response',
    `Anthropic: ${error instanceof Error ? error.message : String(error)}`,
  );
}
