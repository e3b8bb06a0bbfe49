import { Redis } from 'ioredis';

/**
 * ioredis connections for BullMQ. Workers and QueueEvents block, so they need
 * `maxRetriesPerRequest: null`; plain commands fail fast instead of queueing forever when Redis is
 * down, so that reads and alerts report the outage rather than hang.
 */
export function makeBlockingConnection(url: string, name: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, connectionName: name, lazyConnect: false });
}

export function makeCommandConnection(url: string, name: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: 2, connectionName: name, enableOfflineQueue: true });
}

/** A Redis URL fit to print: its password (and user) hidden. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
