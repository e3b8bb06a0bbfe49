import type { Redis } from 'ioredis';
import { makeCommandConnection, redactUrl } from '../bus/redis-connection.js';
import { CliError } from './output.js';

/**
 * A verb's own Redis connection, closed when the verb is done. With Redis down the verb fails with
 * one line, `redis_unavailable`, naming the address and the last connection error (ioredis would
 * otherwise print every failed reconnect, stack and all).
 */
export async function withCommandRedis<T>(
  redisUrl: string,
  name: string,
  use: (redis: Redis) => Promise<T>,
): Promise<T> {
  const redis = makeCommandConnection(redisUrl, name);
  let lastError: Error | null = null;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    return await use(redis);
  } catch (err) {
    const cause = lastError as Error | null;
    if (cause)
      throw new CliError(
        'redis_unavailable',
        `Redis at ${redactUrl(redisUrl)} does not answer (${cause.message})`,
      );
    throw err;
  } finally {
    redis.disconnect();
  }
}
