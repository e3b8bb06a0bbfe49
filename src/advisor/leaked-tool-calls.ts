/**
 * qwen models sometimes write a tool call into `content` as text instead of `tool_calls` (when
 * Ollama's template parser misses it). Helm recovers it only when the name is one of the tools
 * offered in this very call: text naming anything else stays text and is never run.
 *
 * Shapes recognised (what qwen3 / qwen3-coder emit):
 *  - `<tool_call>{"name": "...", "arguments": {...}}</tool_call>` (Hermes style, one or more);
 *  - `<tool_call><function=NAME><parameter=P>value</parameter>...</function></tool_call>` (qwen3-coder);
 *  - the whole content one bare JSON object `{"name": "...", "arguments": {...}}`, fenced or not.
 */

import { isPlainObject } from '../contracts/json-value.js';

export interface LeakedCall {
  name: string;
  arguments: Record<string, unknown>;
}

const TAGGED = /<tool_call>([\s\S]*?)(?:<\/tool_call>|$)/g;
const FUNCTION = /^\s*<function=([^>\s]+)>([\s\S]*?)(?:<\/function>\s*)?$/;
const PARAMETER = /<parameter=([^>\s]+)>([\s\S]*?)<\/parameter>/g;
const FENCED = /^```(?:json)?\s*([\s\S]*?)\s*```$/;

export function parseLeakedToolCalls(
  content: string,
  offered: ReadonlySet<string>,
): { calls: LeakedCall[]; rest: string } {
  const calls: LeakedCall[] = [];
  if (content.includes('<tool_call>')) {
    const rest = content.replace(TAGGED, (whole, inner: string) => {
      const call = parseTagged(inner);
      if (!call || !offered.has(call.name)) return whole;
      calls.push(call);
      return '';
    });
    return { calls, rest: rest.trim() };
  }
  const trimmed = content.trim();
  const bare = asCall(parseJson(FENCED.exec(trimmed)?.[1] ?? trimmed));
  if (bare && offered.has(bare.name)) return { calls: [bare], rest: '' };
  return { calls, rest: content };
}

function parseTagged(inner: string): LeakedCall | undefined {
  const fn = FUNCTION.exec(inner);
  if (!fn) return asCall(parseJson(inner.trim()));
  const args: Record<string, unknown> = {};
  for (const [, key, raw] of (fn[2] ?? '').matchAll(PARAMETER)) {
    const value = (raw ?? '').trim();
    // qwen3-coder writes every value as text; numbers, booleans and objects are JSON inside it.
    const parsed = parseJson(value);
    args[key ?? ''] = parsed === undefined ? value : parsed;
  }
  return { name: fn[1] ?? '', arguments: args };
}

function asCall(value: unknown): LeakedCall | undefined {
  if (!isPlainObject(value) || typeof value.name !== 'string') return undefined;
  const args = value.arguments ?? value.parameters ?? {};
  if (!isPlainObject(args)) return undefined;
  const keys = Object.keys(value).filter((k) => k !== 'name' && k !== 'arguments' && k !== 'parameters');
  // An object with more keys is an answer that happens to have a `name` field, not a call.
  if (keys.length > 0) return undefined;
  return { name: value.name, arguments: args };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
