// RFC 8785 (JCS) canonical JSON, the one form that is hashed and signed on the bus. The canonicalize
// package implements JCS; this wrapper first refuses everything the contract forbids in hashed objects
// (floats, unsafe integers, undefined, lone surrogates, non-JSON objects) instead of letting
// JSON-style coercion drop or rewrite it silently: two agents must never hash different bytes.
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { isPlainObject } from './json-value.js';
import { isWellFormedUnicode } from './unicode.js';

export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

function at(path: string): string {
  return path === '' ? 'at the top level' : `at ${path}`;
}

function assertHashable(value: unknown, path: string, seen: Set<object>): void {
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'string') {
    if (!isWellFormedUnicode(value))
      throw new CanonicalJsonError(`canonical JSON refuses a lone surrogate ${at(path)}`);
    return;
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      throw new CanonicalJsonError(
        `canonical JSON refuses a non-integer number ${at(path)} (hashed objects hold integers only)`,
      );
    }
    if (!Number.isSafeInteger(value)) {
      throw new CanonicalJsonError(`canonical JSON refuses an integer beyond ±(2^53 − 1) ${at(path)}`);
    }
    return;
  }
  if (typeof value !== 'object')
    throw new CanonicalJsonError(
      `canonical JSON refuses ${value === undefined ? 'undefined' : `a ${typeof value}`} ${at(path)}`,
    );
  if (seen.has(value)) throw new CanonicalJsonError(`canonical JSON refuses a cycle ${at(path)}`);
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value))
        throw new CanonicalJsonError(`canonical JSON refuses an empty array slot ${at(`${path}[${i}]`)}`);
      assertHashable(value[i], `${path}[${i}]`, seen);
    }
  } else if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      const childPath = path === '' ? key : `${path}.${key}`;
      if (!isWellFormedUnicode(key))
        throw new CanonicalJsonError(`canonical JSON refuses a key with a lone surrogate ${at(path)}`);
      assertHashable(value[key], childPath, seen);
    }
  } else {
    throw new CanonicalJsonError(
      `canonical JSON refuses a non-plain object ${at(path)} (e.g. a Date, Map or Buffer)`,
    );
  }
  seen.delete(value);
}

/** The RFC 8785 canonical form of a JSON value made of strings, safe integers, booleans, null, arrays, objects. */
export function canonicalJson(value: unknown): string {
  assertHashable(value, '', new Set());
  const text = canonicalize(value);
  if (text === undefined) throw new CanonicalJsonError('canonical JSON produced nothing');
  return text;
}

/** Lowercase hex SHA-256 (a string is hashed as its UTF-8 bytes). */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The contract's hash: lowercase hex SHA-256 of the canonical form's UTF-8 bytes. */
export function hashCanonical(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}
