import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createModelRedactor,
  MIN_MASKED_VALUE_LENGTH,
  PLAIN_ENV_VALUES,
  unmask,
  WITHHELD,
} from '../../../src/advisor/redact-for-model.js';

const RUNS = 1000;
const NONCE = 'a1b2c3d4e5f6';
const mask = (n: number) => `[masked-${NONCE}-${n}]`;

const GITHUB = `ghp_${'A1b2C3d4E5'.repeat(4)}`;
const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----';
const IMAGE_ID = `sha256:${'ab'.repeat(32)}`;
const CONTAINER_ID = 'cd'.repeat(32);

describe('redactForModel: token shapes', () => {
  it.each([
    ['AWS access key id', 'key AKIAIOSFODNN7EXAMPLE used', `key ${mask(1)} used`],
    ['GitHub classic token', `push with ${GITHUB}`, `push with ${mask(1)}`],
    ['GitHub fine-grained token', 'github_pat_11ABCDEFG0123456789_abcdefghijkl', mask(1)],
    ['Slack token', 'xoxb-123456789012-abcdefABCDEF', mask(1)],
    ['JWT', `auth ${JWT}.`, `auth ${mask(1)}.`],
    ['PEM private key', `key:\n${PEM}\nend`, `key:\n${mask(1)}\nend`],
    ['PEM private key cut short', `key:\n-----BEGIN PRIVATE KEY-----\nMIIE`, `key:\n${mask(1)}`],
    ['Bearer header', 'Authorization: Bearer abc.def-ghi_jkl', `Authorization: Bearer ${mask(1)}`],
    ['password pair', 'DB_PASSWORD=hunter2 next', `DB_PASSWORD=${mask(1)} next`],
    ['token pair in JSON', '{"api_key": "k-123456"}', `{"api_key": "${mask(1)}"}`],
    ['credentials in a URL', 'postgres://app:s3cr3t@db:5432/app', `postgres://app:${mask(1)}@db:5432/app`],
    ['long hex', `token ${'0123456789abcdef'.repeat(2)}`, `token ${mask(1)}`],
    ['high-entropy base64', 'k=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', `k=${mask(1)}`],
    ['an image id stays', `image ${IMAGE_ID}`, `image ${IMAGE_ID}`],
    [
      'a UUID stays',
      'request 0f8fad5b-d9cb-469f-a165-70867728950e',
      'request 0f8fad5b-d9cb-469f-a165-70867728950e',
    ],
    [
      'plain words stay',
      'listen tcp 0.0.0.0:8080: bind: address already in use',
      'listen tcp 0.0.0.0:8080: bind: address already in use',
    ],
  ])('%s', (_name, text, expected) => {
    const redactor = createModelRedactor({}, NONCE);
    const out = redactor.redact(text);
    expect(out).toBe(expected);
    expect(unmask(out, redactor.table)).toBe(text);
  });

  it('a public value (container id) is not masked for its shape, but a known value always is', () => {
    const redactor = createModelRedactor(
      { publicValues: [CONTAINER_ID], secretValues: ['cdcdcdcdcd'] },
      NONCE,
    );
    expect(redactor.redact(`container ${CONTAINER_ID}`)).toBe(`container ${mask(1)}`);
    const onlyPublic = createModelRedactor({ publicValues: [CONTAINER_ID] }, NONCE);
    expect(onlyPublic.redact(`container ${CONTAINER_ID}`)).toBe(`container ${CONTAINER_ID}`);
  });
});

describe('redactForModel: known values', () => {
  it('masks env and secret values, the same value with the same mask', () => {
    const redactor = createModelRedactor(
      { envValues: ['canary-7731'], secretValues: ['s3cret-owner'] },
      NONCE,
    );
    const out = redactor.redact('a canary-7731 b s3cret-owner c canary-7731');
    expect(out).toBe(`a ${mask(1)} b ${mask(2)} c ${mask(1)}`);
    expect(redactor.table.get(mask(2))).toBe('s3cret-owner');
  });

  it('masks JSON-escaped and URL-encoded spellings of a value', () => {
    const redactor = createModelRedactor({ secretValues: ['pa"ss word/1'] }, NONCE);
    expect(redactor.redact('{"v":"pa\\"ss word/1"}')).not.toContain('pa\\"ss word/1');
    expect(redactor.redact('?p=pa%22ss%20word%2F1')).not.toContain('pa%22ss%20word%2F1');
  });

  it('masks a value split by a zero-width character once the text is sanitised for the fence', () => {
    const redactor = createModelRedactor({ secretValues: ['zero\u200bwidth-secret'] }, NONCE);
    expect(redactor.redact('x zerowidth-secret y')).toBe(`x ${mask(1)} y`);
  });

  it(`ignores values shorter than ${MIN_MASKED_VALUE_LENGTH} code points and plain configuration words`, () => {
    const redactor = createModelRedactor(
      { envValues: ['1', 'true', 'info', '8080', 'production', '0.0.0.0'], secretValues: ['abcde'] },
      NONCE,
    );
    const text = 'production on 0.0.0.0:8080 info true 1 abcde';
    expect(redactor.redact(text)).toBe(text);
  });

  it('always masks an owner secret, even one that looks like a configuration word', () => {
    const redactor = createModelRedactor({ secretValues: ['production'] }, NONCE);
    expect(redactor.redact('env production')).toBe(`env ${mask(1)}`);
  });

  it('masks overlapping values as one span that unmasks to the original text', () => {
    const redactor = createModelRedactor({ secretValues: ['abcdefgh', 'efghijkl'] }, NONCE);
    const out = redactor.redact('xxabcdefghijklyy');
    expect(out).toBe(`xx${mask(1)}yy`);
    expect(unmask(out, redactor.table)).toBe('xxabcdefghijklyy');
  });

  it('a mask-shaped string with a wrong nonce is never unmasked', () => {
    const redactor = createModelRedactor({ secretValues: ['secret-value'] }, NONCE);
    redactor.redact('secret-value');
    expect(unmask('[masked-000000000000-1]', redactor.table)).toBe('[masked-000000000000-1]');
  });

  it('withholds the text when a value is part of the mask spelling itself', () => {
    const redactor = createModelRedactor({ secretValues: [`masked-${NONCE}`] }, NONCE);
    expect(redactor.redact('a hunter2-password b, token=abcdefgh')).toBe(WITHHELD);
  });
});

const secretArb = fc.string({ unit: 'grapheme', minLength: MIN_MASKED_VALUE_LENGTH, maxLength: 16 });

describe('redactForModel: properties', () => {
  it('no secret value survives, embedded, repeated or overlapping, and unmask restores the text', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(secretArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.oneof(fc.string({ maxLength: 10 }), fc.nat()), { maxLength: 12 }),
        fc.boolean(),
        (secrets, parts, asEnv) => {
          // Parts are free text or a secret, its prefix or suffix glued to the next part (overlaps).
          const text = parts
            .map((part) => {
              if (typeof part === 'string') return part;
              const secret = secrets[part % secrets.length]!;
              const cut = part % secret.length;
              return part % 3 === 0
                ? secret.slice(cut)
                : part % 3 === 1
                  ? secret.slice(0, cut) + secret
                  : secret;
            })
            .join('');
          const redactor = createModelRedactor(asEnv ? { envValues: secrets } : { secretValues: secrets });
          const out = redactor.redact(text);
          for (const secret of secrets) {
            if (asEnv && PLAIN_ENV_VALUES.has(secret.toLowerCase())) continue;
            expect(out).not.toContain(secret);
          }
          if (out !== WITHHELD) expect(unmask(out, redactor.table)).toBe(text);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('no secret survives when secrets overlap one another (windows of one base string)', () => {
    const windowsArb = fc.string({ unit: 'grapheme-ascii', minLength: 8, maxLength: 30 }).chain((base) =>
      fc.tuple(
        fc.constant(base),
        fc.array(
          fc
            .tuple(fc.nat(base.length), fc.nat(base.length))
            .map(([a, b]) => base.slice(Math.min(a, b), Math.max(a, b)))
            .filter((w) => w.length >= MIN_MASKED_VALUE_LENGTH),
          { minLength: 1, maxLength: 4 },
        ),
        fc.string({ maxLength: 6 }),
      ),
    );
    fc.assert(
      fc.property(windowsArb, ([base, secrets, glue]) => {
        const text = `${glue}${base}${glue}${secrets.join(glue)}${base.slice(1)}`;
        const redactor = createModelRedactor({ secretValues: secrets });
        const out = redactor.redact(text);
        for (const secret of secrets) expect(out).not.toContain(secret);
        if (out !== WITHHELD) expect(unmask(out, redactor.table)).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('a text without secrets or token shapes comes out unchanged', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z .:,]{0,60}$/), (text) => {
        const redactor = createModelRedactor({ envValues: ['QQQQQQQ'] });
        expect(redactor.redact(text)).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });
});
