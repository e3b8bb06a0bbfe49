// The bind check: only loopback may listen without a bearer token; anything else, the wildcard
// addresses included, refuses to start without one. And HELM_HTTP_ADDR's parsing.
// The non-loopback addresses below (10.x, 192.168.x, …) are only strings handed to the pure check:
// nothing here listens on them or sends them any traffic (the network rule: tests reach 127.0.0.1 only).
import { describe, expect, it } from 'vitest';
import { type ConfigError, loadConfig } from '../../../src/config/config.js';
import { bindProblems, isLoopback } from '../../../src/http/bind-check.js';

describe('isLoopback', () => {
  it('is true for 127.0.0.0/8, ::1 and their other spellings', () => {
    for (const host of [
      '127.0.0.1',
      '127.0.0.2',
      '127.255.255.254',
      '::1',
      '0:0:0:0:0:0:0:1',
      '::ffff:127.0.0.1',
    ])
      expect(isLoopback(host), host).toBe(true);
  });
  it('is false for the wildcards and every other address', () => {
    for (const host of [
      '0.0.0.0',
      '::',
      '10.0.0.1',
      '192.168.1.10',
      '128.0.0.1',
      '126.255.255.255',
      'fe80::1',
      '::2',
    ])
      expect(isLoopback(host), host).toBe(false);
  });
});

describe('bindProblems', () => {
  it('lets loopback bind without a token', () => {
    expect(bindProblems({ host: '127.0.0.1', port: 9464 }, undefined)).toEqual([]);
    expect(bindProblems({ host: '::1', port: 0 }, undefined)).toEqual([]);
  });
  it('refuses any other address without a token, with one line naming the fix', () => {
    for (const host of ['0.0.0.0', '::', '10.1.2.3']) {
      const problems = bindProblems({ host, port: 9464 }, undefined);
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(
        /^HELM_HTTP_ADDR: .* is not a loopback address, so HELM_HTTP_TOKEN must be set/,
      );
    }
  });
  it('lets any address bind with a token', () => {
    expect(bindProblems({ host: '0.0.0.0', port: 9464 }, 'a-long-enough-token')).toEqual([]);
  });
});

describe('HELM_HTTP_ADDR and HELM_HTTP_TOKEN', () => {
  const load = (env: Record<string, string>) => loadConfig({ HELM_MEMORY_DIR: '/tmp', ...env });
  const problems = (env: Record<string, string>) => {
    try {
      load(env);
      return [];
    } catch (err) {
      return (err as ConfigError).problems;
    }
  };

  it('default to 127.0.0.1:9464 without a token; off turns the server off', () => {
    expect(load({}).http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(load({}).httpToken).toBeUndefined();
    expect(load({ HELM_HTTP_ADDR: 'off' }).http).toBeNull();
  });
  it('take IPv4 and bracketed IPv6 literals, port 0 for any free port', () => {
    expect(load({ HELM_HTTP_ADDR: '0.0.0.0:80' }).http).toEqual({ host: '0.0.0.0', port: 80 });
    expect(load({ HELM_HTTP_ADDR: '[::1]:0' }).http).toEqual({ host: '::1', port: 0 });
  });
  it('refuse host names, bad addresses and ports, and a short token', () => {
    for (const addr of ['localhost:9464', '999.1.1.1:80', '127.0.0.1:70000', '127.0.0.1', '::1:80'])
      expect(problems({ HELM_HTTP_ADDR: addr }), addr).toEqual([
        expect.stringMatching(/^HELM_HTTP_ADDR: must be/),
      ]);
    expect(problems({ HELM_HTTP_TOKEN: 'short' })).toEqual([
      'HELM_HTTP_TOKEN: must be at least 16 characters',
    ]);
  });
});
