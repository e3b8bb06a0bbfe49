import { describe, expect, it } from 'vitest';
import { parseImageReference } from '../../../src/contracts/index.js';

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('image references by the distribution/reference grammar', () => {
  it.each([
    ['ubuntu', { domain: null, path: 'ubuntu', tag: null, digest: null }],
    ['library/ubuntu:22.04', { domain: 'library', path: 'ubuntu', tag: '22.04', digest: null }],
    [
      'registry.example.com:5000/team/app:1.2.3',
      { domain: 'registry.example.com:5000', path: 'team/app', tag: '1.2.3', digest: null },
    ],
    ['localhost:5000/app', { domain: 'localhost:5000', path: 'app', tag: null, digest: null }],
    [
      '127.0.0.1:5000/ghost/gw@' + DIGEST,
      { domain: '127.0.0.1:5000', path: 'ghost/gw', tag: null, digest: DIGEST },
    ],
    ['[::1]:5000/app:v1', { domain: '[::1]:5000', path: 'app', tag: 'v1', digest: null }],
    ['app:v1@' + DIGEST, { domain: null, path: 'app', tag: 'v1', digest: DIGEST }],
    ['a__b.c-d---e/f_g:T_1.x-y', { domain: null, path: 'a__b.c-d---e/f_g', tag: 'T_1.x-y', digest: null }],
    ['Registry.Example.com/app', { domain: 'Registry.Example.com', path: 'app', tag: null, digest: null }],
  ])('accepts %s', (input, expected) => {
    const parsed = parseImageReference(input);
    expect(parsed.ok && { ...parsed.reference, name: undefined }).toEqual({ ...expected, name: undefined });
  });

  it.each([
    ['-rf', 'must start with a letter or digit'],
    ['../x', 'must start with a letter or digit'],
    ['App', 'repository path must be lowercase'],
    ['team/App:1', 'repository path must be lowercase'],
    ['app 1', 'must not contain spaces, newlines or control characters'],
    ['app\n1', 'must not contain spaces, newlines or control characters'],
    ['app\t', 'must not contain spaces, newlines or control characters'],
    ['', 'must not be empty'],
    ['a'.repeat(64).replace(/a/g, 'f'), 'must not be 64 hex digits alone (that is an image id, not a name)'],
    [`x/${'a'.repeat(254)}`, 'repository name must be at most 255 characters'],
    [`app@md5:${'a'.repeat(32)}`, 'digest algorithm must be sha256, sha384 or sha512'],
    [`app@sha256:${'A'.repeat(64)}`, 'a sha256 digest must be 64 lowercase hex digits'],
    [`app@sha256:${'a'.repeat(63)}`, 'a sha256 digest must be 64 lowercase hex digits'],
  ])('refuses %j: %s', (input, reason) => {
    expect(parseImageReference(input)).toEqual({ ok: false, reason });
  });

  it.each([
    '$(x)',
    'app;rm -rf /',
    'app:`id`',
    'app:-tag',
    'app:.tag',
    `app:${'t'.repeat(129)}`,
    'app/',
    '/app',
    'app//x',
    'app..x',
    'app-',
    'a/b:c:d',
    'app@',
    'app:',
    'host:port/app',
    'https://registry/app',
    'app@sha256',
  ])('refuses %j', (input) => {
    expect(parseImageReference(input).ok).toBe(false);
  });
});
