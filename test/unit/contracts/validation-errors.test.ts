import { describe, expect, it } from 'vitest';
import {
  formatPath,
  jobDataSizeProblem,
  jobTextSizeProblem,
  MAX_JOB_DATA_BYTES,
  MAX_PROBLEMS,
  parseActionRequest,
  quoteForMessage,
} from '../../../src/contracts/index.js';

const card = { target: 'openclaw-gateway', environment: 'production', reason: 'r' };

describe('quoted values', () => {
  it('are cut to 40 code points and escaped, so they cannot forge a line', () => {
    expect(quoteForMessage('a'.repeat(50))).toBe(`"${'a'.repeat(40)}…"`);
    expect(quoteForMessage('x\ny')).toBe('"x\\ny"');
    expect(quoteForMessage('😀'.repeat(41))).toBe(`"${'😀'.repeat(40)}…"`);
  });

  it('show bidi and control characters as every sink does (\\u{…}), never raw', () => {
    expect(quoteForMessage('rest\u202Eart\u0007"q\\')).toBe('"rest\\u{202e}art\\u{7}\\"q\\\\"');
  });

  it('an enum value in a message is cut', () => {
    const parsed = parseActionRequest({ action: 'restart', ...card, environment: `prod${'x'.repeat(1000)}` });
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      `environment: must be one of production, staging, dev, got "prod${'x'.repeat(36)}…"`,
    ]);
  });

  it('an unknown key in a message is cut, and no line carries a raw newline', () => {
    const key = `evil\nkey${'k'.repeat(100)}`;
    const parsed = parseActionRequest({ action: 'restart', ...card, [key]: 1 });
    const problems = parsed.ok ? [] : parsed.problems;
    expect(problems).toEqual([`unknown field ${JSON.stringify(`${key.slice(0, 40)}…`)}`]);
    expect(problems.join('').includes('\n')).toBe(false);
  });

  it('free text is never quoted', () => {
    const parsed = parseActionRequest({ action: 'restart', ...card, reason: `TOPSECRET${'x'.repeat(2000)}` });
    expect(JSON.stringify(parsed)).not.toContain('TOPSECRET');
  });
});

describe('paths', () => {
  it('reads like code', () => {
    expect(formatPath(['params', 'set', 'FOO'])).toBe('params.set.FOO');
    expect(formatPath(['params', 'unset', 2])).toBe('params.unset[2]');
    expect(formatPath(['params', 'set', 'a b'])).toBe('params.set["a b"]');
  });
});

describe('many problems', () => {
  it(`stop at ${MAX_PROBLEMS} lines`, () => {
    const set = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`N${i}`, i]));
    const parsed = parseActionRequest({ action: 'set_env', ...card, params: { set } });
    const problems = parsed.ok ? [] : parsed.problems;
    expect(problems).toHaveLength(MAX_PROBLEMS + 1);
    expect(problems.at(-1)).toBe('and 10 more problems');
  });
});

describe('the job data size guard', () => {
  it(`refuses more than ${MAX_JOB_DATA_BYTES} bytes before parsing`, () => {
    expect(MAX_JOB_DATA_BYTES).toBe(512 * 1024);
    const big = { action: 'restart', ...card, reason: 'x'.repeat(MAX_JOB_DATA_BYTES) };
    expect(parseActionRequest(big)).toEqual({
      ok: false,
      problems: [
        `job data must be at most ${MAX_JOB_DATA_BYTES} bytes serialised, got ${JSON.stringify(big).length}`,
      ],
    });
  });

  it('leaves room for several 32 KiB set_env values', () => {
    const set = Object.fromEntries(Array.from({ length: 15 }, (_, i) => [`V${i}`, 'v'.repeat(32 * 1024)]));
    expect(parseActionRequest({ action: 'set_env', ...card, params: { set } }).ok).toBe(true);
  });

  it('handles what JSON cannot serialise', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(jobDataSizeProblem(cyclic)).toBe('job data must be JSON, got an object');
    expect(jobDataSizeProblem(10n)).toBe('job data must be JSON, got a bigint (not JSON)');
    expect(jobTextSizeProblem('x'.repeat(10), 5)).toBe('job data must be at most 5 bytes serialised, got 10');
  });
});
