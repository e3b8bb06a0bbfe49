import canonicalize from 'canonicalize';
import {
  type ChatMessage,
  type ChatResult,
  ModelCallError,
  type ModelClient,
  type OutputSpec,
  type ToolCall,
} from './model-client.js';

/**
 * One bounded tool loop: the model may call Helm's typed read-only tools for a few steps, then must
 * answer in the output shape. Bounded by a step cap, a token budget and a wall-clock deadline; the
 * tools are withdrawn on the last step; a call repeated with the same arguments is refused (answered
 * with an error, not run). An answer is validated by the caller's validator: one retry with the
 * validation errors, then "inconclusive", which is an honest answer, not a failure.
 */

/** A read-only tool the caller supplies: no shell, no Docker write. What run() returns goes to the model. */
export interface ReadOnlyTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments (an object schema). */
  inputSchema: Record<string, unknown>;
  run(args: Record<string, unknown>, signal: AbortSignal): Promise<string>;
}

export type Validation<T> = { ok: true; value: T } | { ok: false; errors: ReadonlyArray<string> };

export interface LoopOptions<T> {
  client: ModelClient;
  /** Allows more steps and tokens (the escalation model). */
  escalated: boolean;
  system: string;
  /** The first user turn (evidence, fenced by the caller). */
  prompt: string;
  tools: ReadonlyArray<ReadOnlyTool>;
  output: OutputSpec;
  validate: (raw: unknown) => Validation<T>;
  /** Epoch milliseconds: the loop's wall-clock end. */
  deadline: number;
  /** One model call ends within this (and never after `deadline`). */
  callTimeoutMs: number;
  maxSteps?: number;
  /** Prompt plus output tokens over all steps. */
  tokenBudget?: number;
  maxTokensPerCall?: number;
  /** A tool's answer is cut to this many characters (it counts against the context window). */
  maxToolOutputChars?: number;
}

export type InconclusiveReason = 'step_cap' | 'token_budget' | 'deadline' | 'invalid_answer';

export interface LoopStats {
  steps: number;
  usage: { promptTokens: number; outputTokens: number };
  /** Some prompt was cut to the context window: an answer may have missed evidence. */
  truncated: boolean;
  toolCallsRun: number;
  toolCallsRefused: number;
}

export type LoopResult<T> =
  | ({ outcome: 'answered'; value: T } & LoopStats)
  | ({ outcome: 'inconclusive'; reason: InconclusiveReason; detail: string } & LoopStats);

export const STEP_CAP = { default: 6, escalated: 12 } as const;
export const TOKEN_BUDGET = { default: 64_000, escalated: 160_000 } as const;
const MAX_TOKENS_PER_CALL = 4096;
const MAX_TOOL_OUTPUT_CHARS = 16_000;

export async function runModelLoop<T>(o: LoopOptions<T>): Promise<LoopResult<T>> {
  const maxSteps = o.maxSteps ?? (o.escalated ? STEP_CAP.escalated : STEP_CAP.default);
  const tokenBudget = o.tokenBudget ?? (o.escalated ? TOKEN_BUDGET.escalated : TOKEN_BUDGET.default);
  const tools = new Map(o.tools.map((t) => [t.name, t]));
  const specs = o.tools.map(({ name, description, inputSchema }) => ({ name, description, inputSchema }));
  const messages: ChatMessage[] = [{ role: 'user', content: o.prompt }];
  const seen = new Set<string>();
  const stats: LoopStats = {
    steps: 0,
    usage: { promptTokens: 0, outputTokens: 0 },
    truncated: false,
    toolCallsRun: 0,
    toolCallsRefused: 0,
  };
  const inconclusive = (reason: InconclusiveReason, detail: string): LoopResult<T> => ({
    outcome: 'inconclusive',
    reason,
    detail,
    ...stats,
  });
  let retried = false;

  while (stats.steps < maxSteps) {
    if (Date.now() >= o.deadline)
      return inconclusive('deadline', `the deadline passed after ${stats.steps} steps`);
    const spent = stats.usage.promptTokens + stats.usage.outputTokens;
    if (spent >= tokenBudget) return inconclusive('token_budget', `${spent} tokens spent of ${tokenBudget}`);
    // The last step: the cap, or the retry after an invalid answer. Tools are withdrawn.
    const last = stats.steps === maxSteps - 1 || retried;
    const callDeadline = Math.min(Date.now() + o.callTimeoutMs, o.deadline);
    let result: ChatResult;
    try {
      result = await o.client.chat({
        system: o.system,
        messages,
        tools: last ? [] : specs,
        output: o.output,
        mustAnswer: last,
        maxTokens: o.maxTokensPerCall ?? MAX_TOKENS_PER_CALL,
        deadline: callDeadline,
      });
    } catch (error) {
      // A model that answered before and ran into the loop's own deadline: out of time, not down.
      if (
        error instanceof ModelCallError &&
        error.kind === 'timeout' &&
        stats.steps > 0 &&
        callDeadline === o.deadline
      )
        return inconclusive('deadline', `the deadline passed during step ${stats.steps + 1}`);
      throw error;
    }
    stats.steps++;
    stats.usage.promptTokens += result.usage.promptTokens;
    stats.usage.outputTokens += result.usage.outputTokens;
    stats.truncated ||= result.truncated;

    if (!last && result.toolCalls.length > 0) {
      const answerCall = answerAsCall(result, o.output);
      messages.push({
        role: 'assistant',
        content: result.text ?? '',
        toolCalls: [...result.toolCalls, ...answerCall],
      });
      for (const call of result.toolCalls) messages.push(await answerToolCall(call, tools, seen, stats, o));
      for (const call of answerCall)
        messages.push(
          toolMessage(call, 'Not taken: you called tools in the same turn. Answer after reading them.', true),
        );
      continue;
    }

    const verdict = o.validate(result.answer?.value ?? result.text ?? null);
    if (verdict.ok) return { outcome: 'answered', value: verdict.value, ...stats };
    if (retried || stats.steps >= maxSteps)
      return inconclusive('invalid_answer', `the answer was invalid: ${verdict.errors.join('; ')}`);
    retried = true;
    const feedback = `Your answer is not valid:\n- ${verdict.errors.join('\n- ')}\nAnswer again with ${o.output.name}, in the required shape, using only the evidence ids you were given.`;
    const answerCall = answerAsCall(result, o.output);
    messages.push({ role: 'assistant', content: result.text ?? '', toolCalls: answerCall });
    // Anthropic needs the answer tool's call closed by a tool_result; Ollama reads a user turn.
    const [call] = answerCall;
    messages.push(call ? toolMessage(call, feedback, true) : { role: 'user', content: feedback });
  }
  return inconclusive('step_cap', `no valid answer within ${maxSteps} steps`);
}

/** The structured answer as the tool call it was (Anthropic's forced tool), so it can be answered. */
function answerAsCall(result: ChatResult, output: OutputSpec): ToolCall[] {
  const a = result.answer;
  if (!a?.callId) return [];
  const args = typeof a.value === 'object' && a.value !== null ? (a.value as Record<string, unknown>) : {};
  return [{ id: a.callId, name: output.name, arguments: args }];
}

function toolMessage(call: ToolCall, content: string, isError: boolean): ChatMessage {
  return { role: 'tool', toolCallId: call.id, name: call.name, content, isError };
}

async function answerToolCall<T>(
  call: ToolCall,
  tools: ReadonlyMap<string, ReadOnlyTool>,
  seen: Set<string>,
  stats: LoopStats,
  o: LoopOptions<T>,
): Promise<ChatMessage> {
  const tool = tools.get(call.name);
  const key = `${call.name}\n${canonicalize(call.arguments) ?? ''}`;
  if (!tool || seen.has(key)) {
    stats.toolCallsRefused++;
    return toolMessage(
      call,
      tool
        ? `Refused: you already called ${call.name} with these arguments; its answer is above. Call something else or answer.`
        : `Refused: there is no tool named ${call.name}.`,
      true,
    );
  }
  seen.add(key);
  stats.toolCallsRun++;
  const signal = AbortSignal.timeout(Math.max(1, Math.min(o.deadline - Date.now(), o.callTimeoutMs)));
  try {
    const text = await abortable(tool.run(call.arguments, signal), signal);
    const max = o.maxToolOutputChars ?? MAX_TOOL_OUTPUT_CHARS;
    return toolMessage(
      call,
      text.length > max ? `${text.slice(0, max)}\n[cut: ${text.length - max} more characters]` : text,
      false,
    );
  } catch (error) {
    const why = signal.aborted
      ? 'it did not finish in time'
      : error instanceof Error
        ? error.message
        : String(error);
    return toolMessage(call, `Tool ${call.name} failed: ${why}`, true);
  }
}

/** A tool that ignores its signal still cannot hold the loop past the deadline. */
function abortable<R>(promise: Promise<R>, signal: AbortSignal): Promise<R> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
