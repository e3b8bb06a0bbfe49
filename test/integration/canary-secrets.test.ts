// Canary secrets planted where Helm reads them (the owner's secret store, the Anthropic key) and
// printed by a container into its own logs must appear in no sink: Helm's log lines, results,
// progress, alerts, the run log, every Redis key and value, and Redis's AOF on disk.
import { chmod, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { removeTestContainers } from '../helpers/docker.js';
import { runScriptContainer, uniqueName, waitFor } from '../helpers/containers.js';
import { busClient, startTestHelm } from '../helpers/helm.js';
import { startThrowawayRedis, type ThrowawayRedis } from '../helpers/redis-server.js';

const STORE_CANARY = `canary-store-${Math.random().toString(36).slice(2)}-value`;
const API_CANARY = `sk-ant-canary-${Math.random().toString(36).slice(2)}`;

let redisServer: ThrowawayRedis | undefined;
afterAll(async () => {
  await removeTestContainers();
  await redisServer?.destroy();
});

async function everyRedisValue(redis: Redis): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', '*', 'COUNT', '500');
    cursor = next;
    for (const key of keys) {
      parts.push(key);
      const type = await redis.type(key);
      if (type === 'string') parts.push(String(await redis.get(key)));
      else if (type === 'hash') parts.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await redis.zrange(key, '0', '-1')));
      else if (type === 'stream') parts.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

async function aofText(dir: string): Promise<string> {
  const files: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (e.isDirectory()) await walk(path.join(d, e.name));
      else files.push(path.join(d, e.name));
    }
  };
  await walk(dir);
  const aof = files.filter((f) => /\.aof(\.|$)|appendonly/.test(path.basename(f)));
  expect(aof.length).toBeGreaterThan(0);
  return (await Promise.all(aof.map((f) => readFile(f, 'latin1')))).join('\n');
}

describe('canary secrets', () => {
  it('never reach any sink', async () => {
    redisServer = await startThrowawayRedis({ aof: true });
    const secretsDir = await mkdtemp(path.join(os.tmpdir(), 'helm-secrets-'));
    await writeFile(path.join(secretsDir, 'db-password'), `${STORE_CANARY}\n`, { mode: 0o600 });
    await chmod(secretsDir, 0o700);

    const h = await startTestHelm({
      REDIS_URL: redisServer.url,
      HELM_SECRETS_DIR: secretsDir,
      ANTHROPIC_API_KEY: API_CANARY,
    });
    const bus = await busClient(h.prefix, redisServer.url);
    try {
      const service = uniqueName('leaky');
      await runScriptContainer(
        `echo "connecting with password=${STORE_CANARY}"; echo "key ${API_CANARY}" >&2; echo done; sleep 600`,
        {
          labels: { 'ghost.service': service },
        },
      );
      const logs = await waitFor(async () => {
        const r = await bus.request({
          action: 'logs',
          target: service,
          environment: 'dev',
          reason: 'look at the leak',
        });
        return (r.data as { lines: Array<{ text: string }> }).lines.length >= 3 ? r : null;
      }, 'the leaky output');
      const texts = (logs.data as { lines: Array<{ text: string }> }).lines.map((l) => l.text);
      // stdout and stderr are copied apart by Docker, so their relative order is not fixed.
      expect([...texts].sort()).toEqual(['connecting with password=[redacted]', 'done', 'key [redacted]']);
      const hc = await bus.request({
        action: 'health_check',
        target: service,
        environment: 'dev',
        reason: 'and its health',
      });
      expect(hc.status).toBe('executed');

      const results = JSON.stringify([logs, hc].map(({ job, ...r }) => ({ r, progress: job.progress })));
      const alerts = JSON.stringify(await bus.alertsSent());
      expect(alerts).toContain('[redacted]');
      const runLog = await readFile(path.join(h.memoryDir, 'run_log.md'), 'utf8');
      const logLines = h.logLines.join('\n');
      // Let the AOF's everysec fsync pass before reading it from disk.
      await new Promise((r) => setTimeout(r, 1500));
      const redisText = await everyRedisValue(bus.redis);
      const aof = await aofText(redisServer.dir);

      for (const [sink, text] of Object.entries({ results, alerts, runLog, logLines, redisText, aof })) {
        expect(text.length, `${sink} is empty: the test would prove nothing`).toBeGreaterThan(0);
        expect(text.includes(STORE_CANARY), `store canary in ${sink}`).toBe(false);
        expect(text.includes(API_CANARY), `API-key canary in ${sink}`).toBe(false);
      }
    } finally {
      await bus.close();
      await h.close();
    }
  });
});
