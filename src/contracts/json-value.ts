import { isWellFormedUnicode, utf8ByteLength } from './unicode.js';

/** The JSON type of a value in plain words, for messages: "an array", "a string", "null", … */
export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(value) ? 'an integer' : 'a number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    case 'undefined':
      return 'nothing';
    default:
      return `a ${typeof value} (not JSON)`;
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The first reason `value` is not plain JSON as the bus defines it (finite numbers, well-formed strings
 * and keys, plain objects and arrays, no cycles), or null. Free-form objects (result data, alert
 * details) are checked with it, because zod's record/unknown schemas look at nothing below the top.
 */
export function jsonValueProblem(value: unknown, path = '', seen: Set<object> = new Set()): string | null {
  const where = path === '' ? '' : ` at ${path}`;
  if (value === null || typeof value === 'boolean') return null;
  if (typeof value === 'string') {
    return isWellFormedUnicode(value) ? null : `contains a lone surrogate${where}`;
  }
  if (typeof value === 'number')
    return Number.isFinite(value) ? null : `contains a non-finite number${where}`;
  if (typeof value !== 'object') return `contains ${describeJsonType(value)}${where}`;
  if (seen.has(value)) return `contains a cycle${where}`;
  seen.add(value);
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return `contains an empty array slot${where}`;
        const problem = jsonValueProblem(value[i], `${path}[${i}]`, seen);
        if (problem) return problem;
      }
      return null;
    }
    if (!isPlainObject(value)) return `contains a non-plain object${where}`;
    for (const [key, child] of Object.entries(value)) {
      if (!isWellFormedUnicode(key)) return `contains a key with a lone surrogate${where}`;
      const problem = jsonValueProblem(child, path === '' ? key : `${path}.${key}`, seen);
      if (problem) return problem;
    }
    return null;
  } finally {
    seen.delete(value);
  }
}

/** UTF-8 size of the value's JSON serialisation, or null when it cannot be serialised (cycle, BigInt). */
export function serialisedByteLength(value: unknown): number | null {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : utf8ByteLength(text);
  } catch {
    return null;
  }
}
