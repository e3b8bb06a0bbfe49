// The users file generator: the committed file is its output, its command list covers every command
// BullMQ's scripts call (so a BullMQ upgrade that adds one fails here, not in production), and a
// prefix can never smuggle a glob or a space into a key pattern.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  agentRules,
  BULLMQ_SCRIPT_COMMANDS,
  COMMITTED_ACL_PATH,
  renderAclFile,
  supportsClientSetinfo,
} from '../../../scripts/generate-acl.js';

const require = createRequire(import.meta.url);
const bullmqRoot = path.dirname(require.resolve('bullmq/package.json'));
const commandsDir = path.join(bullmqRoot, 'dist', 'esm', 'commands');

/** Every Lua script BullMQ's Redis backend runs (the relay backend's scripts are not used). */
function bullmqScripts(): Array<{ file: string; text: string }> {
  const files = [
    ...readdirSync(commandsDir).filter((f) => f.endsWith('.lua') && !f.startsWith('relay')),
    ...readdirSync(path.join(commandsDir, 'includes'))
      .filter((f) => f.endsWith('.lua'))
      .map((f) => path.join('includes', f)),
  ];
  return files.map((file) => ({ file, text: readFileSync(path.join(commandsDir, file), 'utf8') }));
}

describe('redis/users.acl', () => {
  it('is the generator output for prefix bull and Redis 7.2+', () => {
    expect(readFileSync(COMMITTED_ACL_PATH, 'utf8')).toBe(renderAclFile());
  });

  it('has no comment and no password: Redis refuses comments, and passwords come at start-up', () => {
    const lines = renderAclFile().trimEnd().split('\n');
    expect(lines.every((l) => l.startsWith('user '))).toBe(true);
    expect(lines.filter((l) => / [>#<][^ ]/.test(l) || / nopass/.test(l))).toEqual([
      'user default reset on nopass resetchannels -@all +ping',
    ]);
  });
});

describe('the command list', () => {
  it('covers every command BullMQ 6.7.0 scripts call by name', () => {
    const called = new Set<string>();
    for (const { text } of bullmqScripts()) {
      for (const m of text.matchAll(/\b(?:rcall|redis\.call|redis\.pcall)\(\s*["']([A-Za-z]+)["']/g)) {
        called.add((m[1] as string).toLowerCase());
      }
    }
    expect(called.size).toBeGreaterThan(40);
    expect([...called].filter((c) => !(BULLMQ_SCRIPT_COMMANDS as readonly string[]).includes(c))).toEqual([]);
  });

  it('knows every command a script calls through a variable', () => {
    // rcall(pushCmd, …) is LPUSH or RPUSH; rcall(countCommand, …) SCARD or HLEN; rcall(command, …)
    // SSCAN or HSCAN. A new call of this kind must be read and its commands added by hand.
    const sites: string[] = [];
    for (const { file, text } of bullmqScripts()) {
      for (const m of text.matchAll(
        /\b(?:rcall|redis\.call|redis\.pcall)\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*,/g,
      )) {
        sites.push(`${file}: ${m[1]}`);
      }
    }
    expect(sites.sort()).toEqual([
      'includes/addJobInTargetList.lua: pushCmd',
      'includes/findPage.lua: command',
      'paginate-1.lua: countCommand',
    ]);
    for (const c of ['lpush', 'rpush', 'scard', 'hlen', 'sscan', 'hscan']) {
      expect(BULLMQ_SCRIPT_COMMANDS).toContain(c);
    }
  });

  it('writes CLIENT SETINFO only for Redis 7.2 and newer', () => {
    expect(supportsClientSetinfo('7.0')).toBe(false);
    expect(supportsClientSetinfo('7.0.15')).toBe(false);
    expect(supportsClientSetinfo('7.2')).toBe(true);
    expect(supportsClientSetinfo('8.0')).toBe(true);
    expect(() => supportsClientSetinfo('6.2')).toThrow(/7.0 or newer/);
    expect(renderAclFile({ clientSetinfo: false })).not.toContain('setinfo');
    expect(renderAclFile()).toContain('+client|setinfo');
  });
});

describe('keys', () => {
  it('gives each agent its own queues only', () => {
    const rules = agentRules({ prefix: 'p' });
    expect(rules.forge).toMatchObject({ readWrite: ['p:helm.actions:*'], readOnly: [] });
    expect(rules.warden).toMatchObject({
      readWrite: ['p:warden.requests:*', 'p:helm.approvals:*'],
      readOnly: [],
    });
    expect(rules.sentinel).toMatchObject({
      readWrite: ['p:sentinel.alerts:*'],
      readOnly: ['p:ghost:heartbeat:*'],
    });
    expect(rules.helm.readWrite).toEqual([
      'p:helm.*',
      'p:warden.requests:*',
      'p:sentinel.alerts:*',
      'p:helm:*',
      'p:ghost:heartbeat:*',
    ]);
  });

  it('refuses a prefix that could widen a pattern or split a rule', () => {
    for (const prefix of ['*', 'a*', 'b?', 'c[x]', 'd e', 'f:g', '', '-x', 'a'.repeat(65)]) {
      expect(() => agentRules({ prefix }), prefix).toThrow(/prefix/);
    }
    expect(renderAclFile({ prefix: 't-0a1b.c_d' })).toContain('~t-0a1b.c_d:helm.actions:*');
  });
});

describe('one Redis user per host (contract 1.5)', () => {
  it('adds helm_<host> with exactly the helm user rules, and refuses ids that collide', () => {
    const lines = renderAclFile({ helmHosts: ['host-a', 'Web-1.example'] })
      .trimEnd()
      .split('\n');
    const helm = lines.find((l) => l.startsWith('user helm '))!;
    expect(lines).toContain(helm.replace('user helm ', 'user helm_host_a '));
    expect(lines).toContain(helm.replace('user helm ', 'user helm_web_1_example '));
    expect(() => renderAclFile({ helmHosts: ['a-b', 'a.b'] })).toThrow(/make user helm_a_b/);
    expect(() => renderAclFile({ helmHosts: ['bad host'] })).toThrow(/not a host id/);
    expect(renderAclFile({ helmHosts: [] })).toBe(renderAclFile());
  });
});
