// Turns zod issues into plain-word problems, one short line each, naming the field path:
//   params.replicas: must be an integer from 0 to 50
//   unknown field "foo"
//   params.image is required for deploy
// A message quotes a submitted value only for enum-like fields and unknown keys, and cuts it to 40
// code points (quoteForMessage): a secret or a megabyte of text must never come back in an answer.
import type { z } from 'zod';
import { describeJsonType, isPlainObject } from './json-value.js';
import { quoteForMessage } from './message-text.js';

/** Past this many lines the rest is summarised: a hostile input must not produce a hostile answer. */
export const MAX_PROBLEMS = 20;

const EXPECTED_IN_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'a JSON object',
  record: 'a JSON object',
  array: 'an array',
  null: 'null',
};

type RawIssue = z.core.$ZodRawIssue;

function quoteInput(input: unknown): string {
  return typeof input === 'string' ? quoteForMessage(input) : describeJsonType(input);
}

/**
 * The per-parse error map: plain words for everything a schema did not word itself. Schema-level
 * messages take precedence over it (zod's order), so field-specific wording lives next to the field.
 */
export function plainWordsErrorMap(issue: RawIssue): string {
  switch (issue.code) {
    case 'invalid_type': {
      if (issue.input === undefined) return 'is required';
      const expected = EXPECTED_IN_WORDS[issue.expected] ?? issue.expected;
      return `must be ${expected}, got ${describeJsonType(issue.input)}`;
    }
    case 'invalid_value': {
      if (issue.input === undefined) return 'is required';
      const values = issue.values.map((v) => String(v));
      return `must be ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}, got ${quoteInput(issue.input)}`;
    }
    case 'unrecognized_keys': {
      const shown = issue.keys.slice(0, 5).map(quoteForMessage);
      const more = issue.keys.length > 5 ? ` and ${issue.keys.length - 5} more` : '';
      return `unknown ${issue.keys.length === 1 ? 'field' : 'fields'} ${shown.join(', ')}${more}`;
    }
    case 'too_big':
      return issue.origin === 'array'
        ? `must have at most ${issue.maximum} items`
        : `must be at most ${issue.maximum}`;
    case 'too_small':
      return issue.origin === 'array'
        ? `must have at least ${issue.minimum} items`
        : `must be at least ${issue.minimum}`;
    case 'invalid_key':
      // The key is in the path already; the key schema's own message says what a name may be.
      return `is not a valid name: ${issue.issues[0]?.message ?? 'invalid'}`;
    case 'invalid_union':
      return 'does not match any allowed shape';
    case 'invalid_format':
      return 'has an invalid format';
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    default:
      return 'is invalid';
  }
}

/** `params.set.FOO`, `params.unset[2]`, `params.set["a b"]`: keys are cut like quoted values. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key))
      out += out === '' ? key : `.${key}`;
    else out += `[${quoteForMessage(String(key))}]`;
  }
  return out;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (Array.isArray(node) && typeof key === 'number') node = node[key];
    else if (isPlainObject(node) && typeof key === 'string' && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

export interface DescribeOptions {
  /** Appended to "params.… is required" so it reads "params.replicas is required for scale". */
  action?: string;
}

/**
 * One line per problem, first problem per field only (a field that is both too long and blank gets one
 * line), at most MAX_PROBLEMS lines. `input` is the value that was validated: it tells a missing field
 * ("reason is required") from a present one of the wrong kind.
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  input: unknown,
  options: DescribeOptions = {},
): string[] {
  const lines: string[] = [];
  const seenPaths = new Set<string>();
  for (const issue of issues) {
    const path = formatPath(issue.path);
    const isKeysIssue = issue.code === 'unrecognized_keys';
    if (!isKeysIssue) {
      if (seenPaths.has(path)) continue;
      seenPaths.add(path);
    }
    lines.push(describeIssue(issue, path, input, options));
  }
  if (lines.length > MAX_PROBLEMS) {
    const rest = lines.length - MAX_PROBLEMS;
    return [...lines.slice(0, MAX_PROBLEMS), `and ${rest} more ${rest === 1 ? 'problem' : 'problems'}`];
  }
  return lines;
}

function describeIssue(
  issue: z.core.$ZodIssue,
  path: string,
  input: unknown,
  options: DescribeOptions,
): string {
  // A message that names its own field ("params.image is required for deploy") is a whole line.
  if (path !== '' && (issue.message.startsWith(`${path} `) || issue.message.startsWith(`${path}.`))) {
    return issue.message;
  }
  if (
    issue.message === 'is required' ||
    (issue.code !== 'custom' && valueAt(input, issue.path) === undefined && path !== '')
  ) {
    const forAction = options.action && path.startsWith('params') ? ` for ${options.action}` : '';
    return `${path} is required${forAction}`;
  }
  if (path === '') return issue.message;
  return `${path}: ${issue.message}`;
}

/** "job data must be a JSON object, got an array", or null when it is one. */
export function notAnObjectProblem(data: unknown, what = 'job data'): string | null {
  return isPlainObject(data) ? null : `${what} must be a JSON object, got ${describeJsonType(data)}`;
}
