import { createHmac, timingSafeEqual } from 'node:crypto';
import { canonicalJson } from '../contracts/index.js';

/**
 * Jobs on Helm's internal queues carry a MAC under Helm's own key (derived for this purpose): a job
 * that appears there any other way (someone with write access to Redis) changes nothing and raises a
 * security alert. Only a Helm process holds the key.
 */
export function macInternalJob(data: Record<string, unknown>, key: Buffer): string {
  return createHmac('sha256', key).update(canonicalJson(data)).digest('hex');
}

export function verifyInternalJob(
  data: unknown,
  key: Buffer,
): data is Record<string, unknown> & { mac: string } {
  if (!data || typeof data !== 'object' || Array.isArray(data)) return false;
  const { mac, ...rest } = data as Record<string, unknown>;
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return false;
  let expected: string;
  try {
    expected = macInternalJob(rest, key);
  } catch {
    return false;
  }
  return timingSafeEqual(Buffer.from(mac, 'hex'), Buffer.from(expected, 'hex'));
}
