// Where a secret may go, as a table: the pure scope decision, the request's references, and the
// scopes file's parser (default is no everywhere).
import { describe, expect, it } from 'vitest';
import type { Environment } from '../../../src/contracts/identifiers.js';
import { parseActionRequest } from '../../../src/contracts/index.js';
import { secretScopeProblems, secretsRequested } from '../../../src/secrets/secret-scope-check.js';
import {
  NO_SECRET_SCOPES,
  parseSecretScopes,
  type SecretScopes,
  secretScopeProblem,
} from '../../../src/secrets/secret-scopes.js';

const SCOPES: SecretScopes = {
  default_environment: 'dev',
  secrets: {
    'prod-db': { environments: ['production'] },
    'billing-key': { services: ['billing'] },
    'staging-db': { environments: ['staging'], services: ['web', 'worker'] },
  },
};

type Row = [SecretScopes, string, string, Environment, boolean];
const TABLE: Row[] = [
  // listed by environment: that environment only, any service
  [SCOPES, 'prod-db', 'web', 'production', true],
  [SCOPES, 'prod-db', 'web', 'staging', false],
  [SCOPES, 'prod-db', 'web', 'dev', false],
  // listed by service: that service only, any environment
  [SCOPES, 'billing-key', 'billing', 'production', true],
  [SCOPES, 'billing-key', 'billing', 'dev', true],
  [SCOPES, 'billing-key', 'web', 'dev', false],
  // both lists: both must allow
  [SCOPES, 'staging-db', 'web', 'staging', true],
  [SCOPES, 'staging-db', 'worker', 'staging', true],
  [SCOPES, 'staging-db', 'web', 'production', false],
  [SCOPES, 'staging-db', 'billing', 'staging', false],
  // unlisted: the default environment only (a listed secret never falls back to the default)
  [SCOPES, 'other', 'web', 'dev', true],
  [SCOPES, 'other', 'web', 'staging', false],
  [SCOPES, 'other', 'web', 'production', false],
  [SCOPES, 'prod-db', 'web', 'dev', false],
  // no default environment, or no scopes file at all: nowhere
  [{ secrets: SCOPES.secrets! }, 'other', 'web', 'dev', false],
  [NO_SECRET_SCOPES, 'anything', 'web', 'dev', false],
  [NO_SECRET_SCOPES, 'anything', 'web', 'production', false],
  // names are exact: no prefix, case or inherited-property tricks
  [SCOPES, 'PROD-DB', 'web', 'production', false],
  [SCOPES, 'toString', 'web', 'production', false],
  [SCOPES, 'billing-key', 'billing-2', 'dev', false],
];

describe('secretScopeProblem', () => {
  it.each(TABLE)('%# %s: secret %s to %s (%s) → allowed %s', (scopes, secret, service, environment, ok) => {
    const problem = secretScopeProblem(scopes, secret, { service, environment });
    if (ok) expect(problem).toBeNull();
    else {
      expect(problem).toContain(`secret "${secret}" may not go to ${service} (${environment})`);
    }
  });

  it('says why in words the owner can act on', () => {
    expect(secretScopeProblem(SCOPES, 'prod-db', { service: 'web', environment: 'staging' })).toBe(
      'secret "prod-db" may not go to web (staging): its scope allows the environments production only',
    );
    expect(secretScopeProblem(NO_SECRET_SCOPES, 'x-key', { service: 'web', environment: 'dev' })).toBe(
      'secret "x-key" may not go to web (dev): it is not listed in the owner\'s secret scopes (.scopes.yaml) and no default environment is named, so unlisted secrets go nowhere',
    );
  });
});

describe('the secrets a request would write into containers', () => {
  const request = (action: string, params: unknown) => {
    const parsed = parseActionRequest({ action, target: 'web', environment: 'staging', reason: 'r', params });
    if (!parsed.ok) throw new Error(parsed.problems.join('; '));
    return parsed.request;
  };
  const defined = (service: string) => (service === 'web' ? ['b-key', 'a-key', 'b-key'] : []);

  it('set_env: its { secret } values, unique and sorted; inline values are not secrets', () => {
    const r = request('set_env', {
      set: { A: { secret: 'z-key' }, B: 'inline', C: { secret: 'a-key' }, D: { secret: 'z-key' } },
    });
    expect(secretsRequested(r, false, defined, 'web')).toEqual(['a-key', 'z-key']);
  });
  it('a first deploy: what the services file gives the service; a later deploy: none', () => {
    const r = request('deploy', { image: 'shop/web:2' });
    expect(secretsRequested(r, true, defined, 'web')).toEqual(['a-key', 'b-key']);
    expect(secretsRequested(r, false, defined, 'web')).toEqual([]);
    expect(secretsRequested(r, true, undefined, 'web')).toEqual([]);
  });
  it('other actions name none', () => {
    expect(secretsRequested(request('restart', {}), true, defined, 'web')).toEqual([]);
  });
});

describe('secretScopeProblems', () => {
  const to = { service: 'web', environment: 'staging' as const };
  it('refuses every reference when the scopes file is broken, and any when there is none to read', async () => {
    const broken = async () => ({ ok: false as const, problems: ['x: bad'] });
    expect(await secretScopeProblems(['a-key'], to, { secretScopes: broken })).toEqual([
      "the owner's secret scopes cannot be read, so no secret may go anywhere: x: bad",
    ]);
    expect(await secretScopeProblems(['a-key'], to, {})).toHaveLength(1);
    expect(await secretScopeProblems([], to, { secretScopes: broken })).toEqual([]);
  });
});

describe('parseSecretScopes', () => {
  it('reads the README example', () => {
    const loaded = parseSecretScopes(
      [
        'default_environment: dev',
        'secrets:',
        '  shop-db: { environments: [production] }',
        '  stripe-key: { services: [billing] }',
        '  staging-db: { services: [web, worker], environments: [staging] }',
        '',
      ].join('\n'),
    );
    expect(loaded).toEqual({
      ok: true,
      scopes: {
        default_environment: 'dev',
        secrets: {
          'shop-db': { environments: ['production'] },
          'stripe-key': { services: ['billing'] },
          'staging-db': { services: ['web', 'worker'], environments: ['staging'] },
        },
      },
    });
  });
  it('an empty file is no scopes', () => {
    expect(parseSecretScopes('# nothing yet\n')).toEqual({ ok: true, scopes: {} });
  });
  it.each([
    ['secrets:\n  db: {}\n', 'must name environments, services or both'],
    ['secrets:\n  db: { environments: [prod] }\n', 'environments'],
    ['secrets:\n  db: { environments: [] }\n', 'environments'],
    ['secrets:\n  db: { services: [web], everywhere: true }\n', 'everywhere'],
    ['default_environment: everywhere\n', 'default_environment'],
    ['secrets:\n  db: { services: [web] }\n  db: { services: [api] }\n', 'YAML'],
    ['secrets:\n  .hidden: { services: [web] }\n', 'secrets'],
    ['- just a list\n', ''],
  ])('refuses %j', (text, mentions) => {
    const loaded = parseSecretScopes(text);
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.problems.join('\n')).toContain(mentions);
  });
});
