import { describe, expect, it } from 'vitest';
import { parseLeakedToolCalls } from '../../../src/advisor/leaked-tool-calls.js';

const offered = new Set(['read_logs', 'inspect']);

describe('parseLeakedToolCalls', () => {
  it.each([
    [
      'Hermes tags',
      '<tool_call>{"name":"read_logs","arguments":{"target":"web"}}</tool_call>',
      [{ name: 'read_logs', arguments: { target: 'web' } }],
    ],
    [
      'unclosed last tag',
      'Looking.\n<tool_call>{"name":"inspect","arguments":{}}',
      [{ name: 'inspect', arguments: {} }],
    ],
    [
      'two tags',
      '<tool_call>{"name":"read_logs","arguments":{"target":"a"}}</tool_call><tool_call>{"name":"inspect","arguments":{"target":"b"}}</tool_call>',
      [
        { name: 'read_logs', arguments: { target: 'a' } },
        { name: 'inspect', arguments: { target: 'b' } },
      ],
    ],
    [
      'qwen3-coder XML with JSON values',
      '<tool_call><function=read_logs><parameter=target>web</parameter><parameter=lines>50</parameter></function></tool_call>',
      [{ name: 'read_logs', arguments: { target: 'web', lines: 50 } }],
    ],
    [
      'bare JSON, "parameters" key',
      '{"name":"inspect","parameters":{"target":"web"}}',
      [{ name: 'inspect', arguments: { target: 'web' } }],
    ],
    [
      'fenced bare JSON',
      '```json\n{"name":"inspect","arguments":{}}\n```',
      [{ name: 'inspect', arguments: {} }],
    ],
  ])('recovers %s', (_label, content, calls) => {
    expect(parseLeakedToolCalls(content, offered).calls).toEqual(calls);
  });

  it.each([
    ['an unoffered name in tags', '<tool_call>{"name":"docker_rm","arguments":{}}</tool_call>'],
    [
      'an unoffered name in XML',
      '<tool_call><function=shell><parameter=cmd>rm -rf /</parameter></function></tool_call>',
    ],
    ['an unoffered bare name', '{"name":"deploy","arguments":{"image":"evil:latest"}}'],
    ['an answer that has a name field', '{"name":"read_logs","arguments":{},"summary":"x"}'],
    ['arguments that are not an object', '{"name":"read_logs","arguments":"target=web"}'],
    ['prose mentioning a tool', 'I would call read_logs with target web.'],
    ['JSON inside prose', 'Call {"name":"read_logs","arguments":{}} please'],
  ])('leaves %s as text', (_label, content) => {
    const { calls, rest } = parseLeakedToolCalls(content, offered);
    expect(calls).toEqual([]);
    expect(rest.trim()).toBe(content.trim());
  });

  it('takes only the offered calls out of mixed text', () => {
    const content =
      'Checking.<tool_call>{"name":"read_logs","arguments":{"target":"web"}}</tool_call><tool_call>{"name":"stop","arguments":{}}</tool_call>';
    const { calls, rest } = parseLeakedToolCalls(content, offered);
    expect(calls.map((c) => c.name)).toEqual(['read_logs']);
    expect(rest).toBe('Checking.<tool_call>{"name":"stop","arguments":{}}</tool_call>');
  });
});
