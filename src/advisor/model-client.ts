/**
 * Helm's one narrow view of a chat model. The Ollama and Anthropic adapters translate it to their
 * wire formats; the tool loop and the fallback chain know only this. Nothing here decides or acts:
 * a model's answer is data for Helm to validate.
 */

export interface ToolCall {
  /** The provider's id (Anthropic tool_use id) or one the adapter made up (Ollama has none). */
  id: string;
  name: string;
  arguments: Record<string, unknown>;
}

export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls: ToolCall[] }
  /** The answer to one tool call, in the order of the calls. */
  | { role: 'tool'; toolCallId: string; name: string; content: string; isError: boolean };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments (an object schema). */
  inputSchema: Record<string, unknown>;
}

/** The shape the final answer must have: Ollama `format`, Anthropic forced tool of this name. */
export interface OutputSpec {
  name: string;
  description: string;
  schema: Record<string, unknown>;
}

export interface ChatRequest {
  system: string;
  messages: ReadonlyArray<ChatMessage>;
  /** Read-only tools the model may call now; empty on the last step (tools withdrawn). */
  tools: ReadonlyArray<ToolSpec>;
  output: OutputSpec;
  /** The model must answer now, in the output shape (no tools). */
  mustAnswer: boolean;
  maxTokens: number;
  /** Epoch milliseconds: the call is aborted then (a `timeout` ModelCallError). */
  deadline: number;
}

export interface ChatResult {
  /** The model that answered (as the server named it). */
  model: string;
  /** Free text the model wrote, if any. */
  text: string | undefined;
  /** Calls to offered tools only; a call to any other name never becomes a ToolCall. */
  toolCalls: ToolCall[];
  /** The structured answer, when the model gave one (not yet validated). */
  answer: { value: unknown; callId: string | undefined } | undefined;
  usage: { promptTokens: number; outputTokens: number };
  /** The prompt was (almost certainly) cut to fit the context window: the model did not see it all. */
  truncated: boolean;
  /** Normalised: end, tool_use, max_tokens, or the provider's own word. */
  stopReason: string;
}

export interface ModelClient {
  readonly provider: 'ollama' | 'anthropic';
  readonly model: string;
  chat(request: ChatRequest): Promise<ChatResult>;
  /** Does the model answer at all (for `helm doctor`)? Never throws. */
  probe(deadline: number): Promise<{ ok: true } | { ok: false; reason: string }>;
}

export type ModelFailureKind =
  | 'no_key'
  | 'rate_limited'
  | 'overloaded'
  | 'timeout'
  | 'unreachable'
  | 'http_error'
  | 'bad_response';

/** Why a model did not answer; the fallback chain moves on to the next model on any of these. */
export class ModelCallError extends Error {
  constructor(
    readonly kind: ModelFailureKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** An AbortSignal that fires at the deadline (already aborted when it has passed). */
export function deadlineSignal(deadline: number): AbortSignal {
  return AbortSignal.timeout(Math.max(1, deadline - Date.now()));
}

/** A token count from a provider's usage fields; absent or odd: 0. */
export function tokenCount(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}
