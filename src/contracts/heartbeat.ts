// The heartbeat each Helm process writes to <prefix>:ghost:heartbeat:helm:<instance> and to
// <prefix>:ghost:heartbeat:helm every 10 s with a 30 s TTL.
import { z } from 'zod';
import { integerRange, Rfc3339UtcSchema, text } from './primitives.js';

export const HEARTBEAT_INTERVAL_MS = 10_000;
export const HEARTBEAT_TTL_MS = 30_000;

/** The Redis keys of the heartbeat; `instance` is "<host>:<pid>". */
export function heartbeatKeys(prefix: string, instance: string): { instance: string; any: string } {
  return { instance: `${prefix}:ghost:heartbeat:helm:${instance}`, any: `${prefix}:ghost:heartbeat:helm` };
}

export const HeartbeatSchema = z.strictObject({
  at: Rfc3339UtcSchema,
  host: text({ min: 1, max: 255, notBlank: true, description: 'Host name of the process.' }),
  pid: integerRange(1, 2 ** 31 - 1, 'Process id.'),
  version: text({ min: 1, max: 64, notBlank: true, description: "Helm's version (package.json)." }),
  workers: z
    .array(text({ min: 1, max: 128 }))
    .max(64)
    .refine((names) => new Set(names).size === names.length, { error: 'must not list a queue twice' })
    .meta({ description: 'Names of the queues this process runs a worker on (e.g. helm.actions), unique.' }),
});

export type Heartbeat = z.infer<typeof HeartbeatSchema>;
