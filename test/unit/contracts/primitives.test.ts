import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import {
  codePointLength,
  isWellFormedUnicode,
  parseRfc3339Utc,
  Rfc3339UtcSchema,
  takeCodePoints,
  UuidV4Schema,
} from '../../../src/contracts/index.js';

describe('RFC 3339 UTC times', () => {
  it.each([
    ['2026-11-29T17:06:10Z', Date.UTC(2026, 10, 29, 17, 6, 10)],
    ['2026-11-29T17:06:10.1Z', Date.UTC(2026, 10, 29, 17, 6, 10, 100)],
    ['2026-11-29T17:06:10.123456789Z', Date.UTC(2026, 10, 29, 17, 6, 10, 123)],
    ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
    ['2000-02-29T23:59:59.999Z', Date.UTC(2000, 1, 29, 23, 59, 59, 999)],
  ])('accepts %s', (s, ms) => {
    expect(parseRfc3339Utc(s)).toBe(ms);
    expect(Rfc3339UtcSchema.safeParse(s).success).toBe(true);
  });

  it('keeps years below 100 as written', () => {
    expect(new Date(parseRfc3339Utc('0099-01-01T00:00:00Z') as number).getUTCFullYear()).toBe(99);
  });

  it.each([
    '2026-11-29T17:06:10+00:00',
    '2026-11-29T17:06:10+01:00',
    '2026-11-29T17:06:10',
    '2026-11-29t17:06:10z',
    '2026-11-29 17:06:10Z',
    '2026-11-29T17:06:10.Z',
    '2026-11-29T17:06:10.1234567890Z',
    '2026-02-30T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-01T00:00:00Z',
    '2026-11-29T24:00:00Z',
    '2026-11-29T23:60:00Z',
    '2026-12-31T23:59:60Z',
    '２026-11-29T17:06:10Z',
  ])('refuses %s', (s) => {
    expect(parseRfc3339Utc(s)).toBeNull();
    expect(Rfc3339UtcSchema.safeParse(s).success).toBe(false);
  });
});

describe('Unicode helpers', () => {
  it('counts code points', () => {
    expect(codePointLength('a😀é')).toBe(3);
    expect(codePointLength('\ud800x')).toBe(2);
    expect(takeCodePoints('😀😀😀', 2)).toBe('😀😀');
  });

  it('finds lone surrogates', () => {
    expect(isWellFormedUnicode('ok 😀')).toBe(true);
    for (const s of ['\ud800', 'a\udc00', '\ud83d\ud83d', '\ude00\ud83d'])
      expect(isWellFormedUnicode(s)).toBe(false);
  });
});

describe('UUID v4', () => {
  it('is lowercase v4 only', () => {
    expect(UuidV4Schema.safeParse('3f6c1a52-8d0e-4b7a-9c21-5e4f0a9b7d13').success).toBe(true);
    expect(UuidV4Schema.safeParse('3F6C1A52-8D0E-4B7A-9C21-5E4F0A9B7D13').success).toBe(false);
    expect(UuidV4Schema.safeParse('3f6c1a52-8d0e-1b7a-9c21-5e4f0a9b7d13').success).toBe(false);
    expect(UuidV4Schema.safeParse('3f6c1a52-8d0e-4b7a-7c21-5e4f0a9b7d13').success).toBe(false);
  });

  it('inferred types are plain strings', () => {
    const value: z.infer<typeof UuidV4Schema> = 'x';
    expect(typeof value).toBe('string');
  });
});
