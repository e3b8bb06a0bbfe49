import { randomBytes } from 'node:crypto';

/**
 * A BullMQ key prefix no other test uses (`t-<10 hex>`), so test files can share the one test Redis
 * (and run in parallel) without seeing each other's queues. Call once per file (or per test).
 */
export function freshPrefix(): string {
  return `t-${randomBytes(5).toString('hex')}`;
}
