// Start-up refuses what would lose jobs (a Redis that evicts or has no AOF) and bad configuration,
// with one clear line per problem; the real process entry says so on stderr.
import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../src/helm.js';
import { startTestHelm } from '../helpers/helm.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis-server.js';

const servers: ThrowawayRedis[] = [];
afterAll(async () => {
  for (const s of servers) await s.destroy();
});

async function redis(opts: Parameters<typeof startThrowawayRedis>[0]) {
  const s = await startThrowawayRedis(opts);
  servers.push(s);
  return s;
}

function runMain(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('Redis durability at start-up', () => {
  it('refuses a Redis whose maxmemory-policy is not noeviction', async () => {
    const s = await redis({ maxmemoryPolicy: 'allkeys-lru' });
    const err = await startTestHelm({ REDIS_URL: s.url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).problems).toEqual([
      expect.stringMatching(/maxmemory-policy is allkeys-lru: it must be noeviction/),
    ]);
  });

  it('refuses a Redis without AOF unless HELM_ALLOW_VOLATILE_REDIS=1, which warns loudly', async () => {
    const s = await redis({ aof: false });
    const err = await startTestHelm({ REDIS_URL: s.url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).problems[0]).toMatch(/AOF persistence off/);

    const h = await startTestHelm({ REDIS_URL: s.url, HELM_ALLOW_VOLATILE_REDIS: '1' });
    try {
      const warning = h.logLines
        .map((l) => JSON.parse(l) as { level: number; msg: string })
        .find((l) => /AOF persistence off/.test(l.msg));
      expect(warning?.level).toBe(40);
    } finally {
      await h.close();
    }
  });

  it('the process exits non-zero with the problem on stderr', async () => {
    const s = await redis({ maxmemoryPolicy: 'volatile-lru' });
    const r = await runMain({ REDIS_URL: s.url, HELM_MEMORY_DIR: s.dir });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('Helm cannot start');
    expect(r.stderr).toContain('maxmemory-policy is volatile-lru');
  });
});

describe('configuration errors', () => {
  it('stop the process with one line per problem', async () => {
    const r = await runMain({
      REDIS_URL: 'localhost:6379',
      LOG_LEVEL: 'chatty',
      HELM_SECRETS_DIR: '/nonexistent',
    });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe("Helm's configuration is invalid:");
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {2}- REDIS_URL: must be a redis:/),
      expect.stringMatching(/^ {2}- LOG_LEVEL: must be one of/),
      '  - HELM_SECRETS_DIR: /nonexistent is not a folder',
    ]);
  });
});
