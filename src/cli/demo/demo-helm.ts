import path from 'node:path';
import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import type { Config } from '../../config/config.js';
import { loadConfig } from '../../config/config.js';
import { type Helm, startHelm } from '../../helm.js';
import type { DemoNames } from './demo-names.js';

/**
 * The demo's own Helm, started in this process: its own BullMQ prefix, memory folder (run log, key),
 * demo Warden key and scope, on the owner's Redis and Docker. A Helm the owner runs already shares
 * neither queues nor keys nor run log with it, and never receives the demo's requests. The demo talks
 * to it over the bus exactly as Forge and Warden would.
 *
 * Short windows so that a newcomer waits seconds, not minutes: a 2 s stability window (Helm's default
 * is 10 s). No monitor (one per host: the owner's may run) and no advisor (no model needed).
 */
export interface DemoHelm {
  helm: Helm;
  config: Readonly<Config>;
  /** Helm's own log lines (warnings and errors), for a failure's explanation. */
  logLines: string[];
}

export async function startDemoHelm(
  owner: Readonly<Config>,
  names: DemoNames,
  dirs: { memory: string; wardenPublicKey: string },
): Promise<DemoHelm> {
  const env: Record<string, string | undefined> = {
    REDIS_URL: owner.redisUrl,
    DOCKER_HOST: owner.dockerHost,
    HELM_ALLOW_VOLATILE_REDIS: process.env['HELM_ALLOW_VOLATILE_REDIS'],
    HELM_QUEUE_PREFIX: names.prefix,
    HELM_MEMORY_DIR: dirs.memory,
    HELM_SCOPE_LABELS: `${names.scope.key}=${names.scope.value}`,
    HELM_INSTANCE: names.instance,
    HELM_WARDEN_PUBLIC_KEY_FILE: dirs.wardenPublicKey,
    HELM_WORKERS: 'gate,executor',
    HELM_ADVISOR: 'off',
    HELM_HTTP_ADDR: '127.0.0.1:0',
    HELM_STABILITY_WINDOW_S: '2',
    HELM_HEALTH_TIMEOUT_S: '30',
    LOG_LEVEL: 'warn',
  };
  const logLines: string[] = [];
  // Helm's JSON log would drown the walk-through: kept here, the last lines shown on failure.
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logLines.push(line);
      if (logLines.length > 200) logLines.splice(0, logLines.length - 200);
      cb();
    },
  });
  const config = loadConfig(env);
  const helm = await startHelm(config, { logDestination: sink });
  return { helm, config, logLines };
}

/** The demo's memory folder inside its temporary folder. */
export function demoMemoryDir(tmp: string): string {
  return path.join(tmp, 'memory');
}

/** Deletes every Redis key under the demo's prefix (its queues, Helm's records, the heartbeat). */
export async function removeDemoKeys(redis: Redis, prefix: string): Promise<number> {
  let removed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${escapeGlob(prefix)}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
