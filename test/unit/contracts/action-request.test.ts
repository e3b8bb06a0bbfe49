import { describe, expect, it } from 'vitest';
import { ACTIONS, parseActionRequest } from '../../../src/contracts/index.js';

const card = {
  target: 'openclaw-gateway',
  environment: 'production',
  reason: 'why this action is being taken',
};
const IMAGE_ID = `sha256:${'a'.repeat(64)}`;

function problems(data: unknown): string[] {
  const parsed = parseActionRequest(data);
  if (parsed.ok) throw new Error(`expected a refusal, got ${JSON.stringify(parsed.request)}`);
  return parsed.problems;
}

describe("the design card's four-field examples", () => {
  it.each(['restart', 'stop', 'health_check', 'logs'])('%s is valid as written', (action) => {
    const parsed = parseActionRequest({ action, ...card });
    expect(parsed).toEqual({ ok: true, request: { action, ...card } });
  });

  it('deploy fails naming the missing image', () => {
    expect(problems({ action: 'deploy', ...card })).toEqual(['params.image is required for deploy']);
  });

  it('scale fails naming the missing replica count', () => {
    expect(problems({ action: 'scale', ...card })).toEqual(['params.replicas is required for scale']);
  });
});

describe('valid requests per action', () => {
  const valid: Array<[string, Record<string, unknown>]> = [
    [
      'deploy',
      {
        action: 'deploy',
        ...card,
        params: { image: 'registry.example.com:5000/ghost/gw:1.2.3', image_id: IMAGE_ID },
      },
    ],
    [
      'deploy staging without id',
      { action: 'deploy', ...card, environment: 'staging', params: { image: 'gw:1.2.3' } },
    ],
    ['scale to zero', { action: 'scale', ...card, params: { replicas: 0 } }],
    ['restart with timeout', { action: 'restart', ...card, params: { timeout_s: 600 } }],
    ['stop with timeout', { action: 'stop', ...card, params: { timeout_s: 1 } }],
    ['logs', { action: 'logs', ...card, params: { tail: 10_000, since: '2026-11-29T17:06:10.123456789Z' } }],
    ['rollback', { action: 'rollback', ...card, params: { to: 'openclaw-gateway:r41' } }],
    ['remove', { action: 'remove', ...card, params: { volumes: true, archive: false } }],
    [
      'set_env',
      { action: 'set_env', ...card, params: { set: { A: 'x', B: { secret: 'db-pass' } }, unset: ['C'] } },
    ],
    ['prune', { action: 'prune', ...card, target: 'local', params: { what: 'images' } }],
    ['health_check with empty params', { action: 'health_check', ...card, params: {} }],
    ['status of one service', { action: 'status', ...card, params: {} }],
    ['stats of everything in scope', { action: 'stats', ...card, target: '*' }],
    ['optional ids', { action: 'restart', ...card, request_id: 'forge:build-42', requested_by: 'forge' }],
  ];
  it.each(valid)('%s', (_name, data) => {
    const parsed = parseActionRequest(data);
    expect(parsed.ok ? 'ok' : parsed.problems).toBe('ok');
    // No defaults are filled in: the parsed request is the submitted one.
    expect(parsed.ok && parsed.request).toEqual(data);
  });

  it('covers every action', () => {
    const covered = new Set(valid.map(([, d]) => d['action']));
    expect([...covered].sort()).toEqual([...ACTIONS].sort());
  });
});

describe('refusals name the field and the rule', () => {
  it.each([['../x'], ['-rf'], ['a\nb'], ['a;rm'], ['$(x)'], [''], ['x'.repeat(129)]])(
    'target %j',
    (target) => {
      expect(problems({ action: 'restart', ...card, target })).toEqual([
        "target: must start with a letter or digit and contain only letters, digits, '_', '.', '-' (at most 128)",
      ]);
    },
  );

  it('wrong types', () => {
    expect(problems({ action: 'restart', target: 5, environment: true, reason: ['x'] })).toEqual([
      'target: must be a string, got an integer',
      'environment: must be one of production, staging, dev, got a boolean',
      'reason: must be a string, got an array',
    ]);
  });

  it('an unknown action, and every other problem of the same request', () => {
    expect(problems({ action: 'nuke', target: '../x', environment: 'prod', reason: ' ', foo: 1 })).toEqual([
      'action: must be one of deploy, restart, stop, scale, health_check, logs, rollback, remove, set_env, prune, status, stats, got "nuke"',
      "target: must start with a letter or digit and contain only letters, digits, '_', '.', '-' (at most 128)",
      'environment: must be one of production, staging, dev, got "prod"',
      'reason: must not be blank',
      'unknown field "foo"',
    ]);
  });

  it('missing fields', () => {
    expect(problems({})).toEqual([
      'action is required',
      'target is required',
      'environment is required',
      'reason is required',
    ]);
  });

  it('unknown keys, top level and in params', () => {
    expect(problems({ action: 'restart', ...card, extra: 1, more: 2 })).toEqual([
      'unknown fields "extra", "more"',
    ]);
    expect(problems({ action: 'scale', ...card, params: { replicas: 1, image: 'x' } })).toEqual([
      'params: unknown field "image" (scale takes replicas)',
    ]);
    expect(problems({ action: 'health_check', ...card, params: { x: 1 } })).toEqual([
      'params: unknown field "x" (health_check takes no params)',
    ]);
  });

  it('params ranges', () => {
    for (const replicas of [-1, 51, 1.5, '3', null]) {
      expect(problems({ action: 'scale', ...card, params: { replicas } })).toEqual([
        'params.replicas: must be an integer from 0 to 50',
      ]);
    }
    expect(problems({ action: 'stop', ...card, params: { timeout_s: 0 } })).toEqual([
      'params.timeout_s: must be an integer from 1 to 600',
    ]);
    expect(problems({ action: 'logs', ...card, params: { tail: 10_001 } })).toEqual([
      'params.tail: must be an integer from 1 to 10000',
    ]);
  });

  it('production deploy needs image_id or manifest_digest', () => {
    expect(problems({ action: 'deploy', ...card, params: { image: 'gw:1' } })).toEqual([
      'params.image_id or params.manifest_digest is required for deploy to production',
    ]);
  });

  it('a digest in the image must agree with manifest_digest', () => {
    const image = `gw@sha256:${'b'.repeat(64)}`;
    expect(
      problems({ action: 'deploy', ...card, params: { image, manifest_digest: `sha256:${'c'.repeat(64)}` } }),
    ).toEqual(['params.manifest_digest: must equal the digest in params.image']);
  });

  it.each([
    ['-rf', 'params.image: not a valid image reference: must start with a letter or digit'],
    ['../x', 'params.image: not a valid image reference: must start with a letter or digit'],
    ['Ghost/App:1', 'params.image: not a valid image reference: repository path must be lowercase'],
    [
      'gw 1',
      'params.image: not a valid image reference: must not contain spaces, newlines or control characters',
    ],
    [
      'gw\n1',
      'params.image: not a valid image reference: must not contain spaces, newlines or control characters',
    ],
  ])('image %j', (image, message) => {
    expect(problems({ action: 'deploy', ...card, params: { image, image_id: IMAGE_ID } })).toEqual([message]);
  });

  it('oversized fields say the size, not the value', () => {
    const reason = 'secret-looking-text '.repeat(60);
    const lines = problems({ action: 'restart', ...card, reason });
    expect(lines).toEqual(['reason: must be 1 to 1000 characters long, got 1200']);
  });

  it('reason length counts code points, not UTF-16 units', () => {
    expect(parseActionRequest({ action: 'restart', ...card, reason: '😀'.repeat(1000) }).ok).toBe(true);
    expect(problems({ action: 'restart', ...card, reason: '😀'.repeat(1001) })).toEqual([
      'reason: must be 1 to 1000 characters long, got 1001',
    ]);
  });

  it('lone surrogates', () => {
    expect(problems({ action: 'restart', ...card, reason: 'ok \ud800' })).toEqual([
      'reason: must be well-formed Unicode (it contains a lone surrogate)',
    ]);
  });

  it.each([
    [[], 'job data must be a JSON object, got an array'],
    ['deploy', 'job data must be a JSON object, got a string'],
    [null, 'job data must be a JSON object, got null'],
    [42, 'job data must be a JSON object, got an integer'],
    [1.5, 'job data must be a JSON object, got a number'],
    [undefined, 'job data must be JSON, got nothing'],
  ])('non-object job data %j', (data, message) => {
    expect(problems(data)).toEqual([message]);
  });
});

describe('set_env', () => {
  const req = (params: unknown) => ({ action: 'set_env', ...card, params });

  it('needs at least one of set or unset', () => {
    expect(problems({ action: 'set_env', ...card })).toEqual([
      'params.set or params.unset is required for set_env',
    ]);
    expect(problems(req({}))).toEqual(['params.set or params.unset is required for set_env']);
    expect(problems(req({ set: {}, unset: [] }))).toEqual([
      'params.set or params.unset is required for set_env',
    ]);
  });

  it('caps an inline value at 32 KiB of UTF-8 and never quotes it', () => {
    expect(parseActionRequest(req({ set: { A: 'x'.repeat(32 * 1024) } })).ok).toBe(true);
    // 'é' is 2 bytes: 16385 of them are 32770 bytes but only 16385 code points.
    const lines = problems(req({ set: { A: 'é'.repeat(16_385) } }));
    expect(lines).toEqual(['params.set.A: must be at most 32768 bytes in UTF-8, got 32770']);
    expect(lines.join('')).not.toContain('é');
  });

  it('refuses bad names, bad secret refs, NUL, and a name both set and unset', () => {
    expect(
      problems(
        req({
          set: { 'bad name': 'v', B: 5, C: { secret: '-x' }, D: 'a\u0000b', E: { secret: 'ok', x: 1 } },
        }),
      ),
    ).toEqual([
      "params.set[\"bad name\"]: is not a valid name: must be an environment variable name: a letter or '_', then letters, digits, '_' (at most 128)",
      'params.set.B: must be a string of at most 32768 bytes or { "secret": SECRET_NAME }, got an integer',
      "params.set.C.secret: must be a secret name: a letter or digit, then letters, digits, '_', '.', '-' (at most 128)",
      'params.set.D: must not contain a NUL character (a process environment cannot carry one)',
      'params.set.E: unknown field "x"',
    ]);
    expect(problems(req({ set: { A: 'x' }, unset: ['A'] }))).toEqual([
      'params.unset: must not name "A", which params.set also sets',
    ]);
    expect(problems(req({ unset: ['A', 'A'] }))).toEqual(['params.unset: must not list a name twice']);
  });

  it('does not echo a value even when its name is refused', () => {
    const secret = 'hunter2-super-secret-value';
    const lines = problems(req({ set: { 'not a name': secret, OK: 7 } }));
    expect(lines.join('\n')).not.toContain(secret);
  });
});
