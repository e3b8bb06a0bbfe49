import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { hostIdOf, hostIdProblem } from '../../../src/config/host-id.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const c = loadConfig({});
    expect(c.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(c.queuePrefix).toBe('bull');
    expect(c.memoryDir.endsWith('/memory')).toBe(true);
    expect(c.logLevel).toBe('info');
    expect(c.allowVolatileRedis).toBe(false);
    expect(c.scope.allServices).toBe(true);
    expect(c.runLogFileName).toBe('run_log.md');
    expect(c.maxStalledCount).toBeGreaterThanOrEqual(1000);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reports one clear line per invalid value, naming the variable', () => {
    const problems = problemsOf({
      REDIS_URL: 'http://x',
      LOG_LEVEL: 'loud',
      HELM_QUEUE_PREFIX: 'a:b',
      HELM_GATE_CONCURRENCY: 'many',
      HELM_SCOPE_LABELS: 'noequals',
      HELM_ALLOW_VOLATILE_REDIS: 'perhaps',
    });
    expect(problems).toHaveLength(6);
    expect(problems.some((p) => p.startsWith('REDIS_URL: must be a redis://'))).toBe(true);
    expect(problems.some((p) => p.startsWith('LOG_LEVEL: must be one of'))).toBe(true);
    expect(problems.some((p) => p.startsWith('HELM_QUEUE_PREFIX:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('HELM_GATE_CONCURRENCY: must be a whole number'))).toBe(true);
    expect(problems.some((p) => p.startsWith('HELM_SCOPE_LABELS:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('HELM_ALLOW_VOLATILE_REDIS:'))).toBe(true);
  });

  it('refuses missing files and folders it was pointed at', () => {
    const problems = problemsOf({
      HELM_POLICY_FILE: '/nonexistent/policy.yml',
      HELM_SECRETS_DIR: '/nonexistent/secrets',
      HELM_WARDEN_PUBLIC_KEY_FILE: '/nonexistent/k.pem',
    });
    expect(problems).toEqual([
      'HELM_WARDEN_PUBLIC_KEY_FILE: cannot read /nonexistent/k.pem (ENOENT)',
      'HELM_POLICY_FILE: /nonexistent/policy.yml is not a readable file',
      'HELM_SECRETS_DIR: /nonexistent/secrets is not a folder',
    ]);
  });

  it('refuses a Warden key that is not a PEM public key, and both key settings at once', () => {
    expect(problemsOf({ HELM_WARDEN_PUBLIC_KEY: 'hello' })).toEqual([
      'HELM_WARDEN_PUBLIC_KEY: holds no "BEGIN PUBLIC KEY" PEM block',
    ]);
    expect(
      problemsOf({ HELM_WARDEN_PUBLIC_KEY: 'x', HELM_WARDEN_PUBLIC_KEY_FILE: '/etc/hostname' })[0],
    ).toMatch(/both set/);
  });

  it('parses a scope; an explicit scope replaces the default unless asked to keep it', () => {
    const c = loadConfig({ HELM_SCOPE_LABELS: 'ghost.scope=t1,team=a', HELM_SCOPE_COMPOSE_PROJECTS: 'shop' });
    expect(c.scope.labels).toEqual([
      { key: 'ghost.scope', value: 't1' },
      { key: 'team', value: 'a' },
    ]);
    expect(c.scope.composeProjects).toEqual(['shop']);
    expect(c.scope.allServices).toBe(false);
    expect(loadConfig({ HELM_SCOPE_LABELS: 'a=b', HELM_SCOPE_ALL_SERVICES: '1' }).scope.allServices).toBe(
      true,
    );
  });

  it('gives a process that runs only some workers its own run-log file', () => {
    expect(loadConfig({}).runLogFileName).toBe('run_log.md');
    expect(loadConfig({ HELM_WORKERS: 'gate,executor,monitor' }).runLogFileName).toBe('run_log.md');
    expect(loadConfig({ HELM_WORKERS: 'executor' }).runLogFileName).toMatch(/^run_log\.executor\..+\.md$/);
    expect(problemsOf({ HELM_WORKERS: 'gate,juggler' })[0]).toMatch(/^HELM_WORKERS: must name workers among/);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ REDIS_URL: '', LOG_LEVEL: '' }).redisUrl).toBe('redis://127.0.0.1:6379');
  });
});

describe('advisor configuration', () => {
  it('defaults: on, qwen3-coder by default, claude-sonnet-4-6 on escalation, restart and rollback submitted', () => {
    const { advisor } = loadConfig({});
    expect(advisor).toEqual({
      enabled: true,
      defaultModel: 'qwen3-coder',
      escalationModel: 'claude-sonnet-4-6',
      anthropicBaseUrl: 'https://api.anthropic.com',
      timeoutMs: 90_000,
      numCtx: 32_768,
      submit: ['restart', 'rollback'],
    });
    expect(Object.isFrozen(advisor)).toBe(true);
  });

  it('reads every advisor variable', () => {
    const c = loadConfig({
      HELM_ADVISOR: 'off',
      HELM_MODEL_DEFAULT: 'qwen3-coder:30b',
      HELM_MODEL_ESCALATION: 'claude-opus-4-1',
      ANTHROPIC_BASE_URL: 'http://127.0.0.1:9999',
      HELM_ADVISOR_TIMEOUT_MS: '5000',
      HELM_ADVISOR_NUM_CTX: '8192',
      HELM_ADVISOR_SUBMIT: 'restart, logs,health_check,scale_up',
    });
    expect(c.advisor).toMatchObject({
      enabled: false,
      defaultModel: 'qwen3-coder:30b',
      escalationModel: 'claude-opus-4-1',
      anthropicBaseUrl: 'http://127.0.0.1:9999',
      timeoutMs: 5000,
      numCtx: 8192,
      submit: ['restart', 'logs', 'health_check', 'scale_up'],
    });
    expect(loadConfig({ HELM_ADVISOR_SUBMIT: 'none' }).advisor.submit).toEqual([]);
  });

  it('refuses what the advisor may never submit by itself, one line per problem', () => {
    const problems = problemsOf({
      HELM_ADVISOR: 'maybe',
      HELM_ADVISOR_SUBMIT: 'restart,deploy',
      HELM_MODEL_DEFAULT: 'qwen coder',
      ANTHROPIC_BASE_URL: 'not a url',
      HELM_ADVISOR_NUM_CTX: '10',
    });
    expect(problems).toHaveLength(5);
    expect(problems.find((p) => p.startsWith('HELM_ADVISOR_SUBMIT:'))).toMatch(/only proposes the others/);
    expect(problems.find((p) => p.startsWith('HELM_ADVISOR:'))).toBe('HELM_ADVISOR: must be on or off');
  });

  it('keeps the API key out of the advisor block (it is redacted by name where it is)', () => {
    const c = loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-canary-123456' });
    expect(JSON.stringify(c.advisor)).not.toContain('sk-ant-canary');
    expect(c.anthropicApiKey).toBe('sk-ant-canary-123456');
  });
});

// HELM_HOST_ID (contract 1.5, decision 90): validated like a target, never "local", default the hostname.
describe('the host id', () => {
  it('is HELM_HOST_ID when set, else the hostname, and names the default instance', () => {
    expect(loadConfig({ HELM_HOST_ID: 'host-b' }).host).toBe('host-b');
    expect(loadConfig({ HELM_HOST_ID: 'host-b' }).instance).toBe(`host-b:${process.pid}`);
    expect(loadConfig({}).host).toBe(hostname());
  });

  it('is refused in plain words when it is not a valid target, or is "local"', () => {
    for (const bad of ['-a', 'a b', 'a:b', 'x'.repeat(129), 'a/b']) {
      const problems = problemsOf({ HELM_HOST_ID: bad });
      expect(problems, bad).toHaveLength(1);
      expect(problems[0]).toMatch(/^HELM_HOST_ID: must start with a letter or digit/);
    }
    for (const reserved of ['local', 'LOCAL']) {
      expect(problemsOf({ HELM_HOST_ID: reserved })).toEqual([
        'HELM_HOST_ID: must not be "local" (it means "this host" in requests)',
      ]);
    }
  });

  it('asks for HELM_HOST_ID when the hostname cannot be one', () => {
    const problems: string[] = [];
    expect(hostIdOf(undefined, 'bad host', problems)).toBe('bad host');
    expect(problems).toEqual([
      expect.stringMatching(
        /^HELM_HOST_ID: unset, and the hostname "bad host" cannot be a host id .*; set it$/,
      ),
    ]);
    expect(hostIdOf('given', 'bad host', [])).toBe('given');
    expect(hostIdProblem('web-1.example')).toBeNull();
  });
});

// The front proxy's settings (issue 11): defaults, and a clear line per bad value.
describe('proxy configuration', () => {
  it('defaults: admin API on loopback 2019, ports 20000-20999, server srv0, every address, 10 s drain', () => {
    expect(loadConfig({}).proxy).toEqual({
      adminUrl: 'http://127.0.0.1:2019',
      portRange: { first: 20000, last: 20999 },
      server: 'srv0',
      bindHost: '',
      drainMs: 10_000,
    });
  });

  it('reads the settings', () => {
    const proxy = loadConfig({
      HELM_PROXY_ADMIN: 'http://127.0.0.1:42019',
      HELM_PROXY_PORT_RANGE: '30000-30099',
      HELM_PROXY_SERVER: 'front',
      HELM_PROXY_BIND: '127.0.0.1',
      HELM_PROXY_DRAIN_S: '1',
    }).proxy;
    expect(proxy).toEqual({
      adminUrl: 'http://127.0.0.1:42019',
      portRange: { first: 30000, last: 30099 },
      server: 'front',
      bindHost: '127.0.0.1',
      drainMs: 1000,
    });
  });

  it('refuses an admin API off loopback, a bad range, a bad bind address, each in one line', () => {
    // 10.0.0.2 is a string handed to the pure config check, which refuses it; nothing contacts it.
    expect(
      problemsOf({
        HELM_PROXY_ADMIN: 'http://10.0.0.2:2019',
        HELM_PROXY_PORT_RANGE: '30000-20000',
        HELM_PROXY_BIND: 'example.com',
      }),
    ).toEqual([
      'HELM_PROXY_ADMIN: must be http://127.0.0.1:<port> (the proxy admin API on loopback), e.g. http://127.0.0.1:2019',
      'HELM_PROXY_PORT_RANGE: must be a port range within 1024-65535, first <= last',
      'HELM_PROXY_BIND: must be an IP address, or empty for every address',
    ]);
  });
});
