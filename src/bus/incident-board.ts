import type { Redis } from 'ioredis';
import { z } from 'zod';
import { helmKey } from './queue-names.js';

/**
 * The monitor's incidents as the status page reads them: the monitor (monitor/incident-publisher.ts)
 * writes its open incidents and the last closed ones to one Redis key with a TTL it keeps refreshing,
 * and the page (wiring/status-page.ts) reads that key, possibly from another process on the same bus.
 * A monitor that stopped leaves no key behind once the TTL runs out: the page then says the monitor
 * is silent instead of showing stale incidents as current. One monitor per bus (README, "Several Helm
 * processes on one bus"), so one key.
 */
const IncidentSchema = z.object({
  /** The alerts' dedup_key: the same for every alert of one incident. */
  key: z.string(),
  kind: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
  target: z.string().nullable(),
  environment: z.string().nullable(),
  /** The last alert's message (an escalation or a repeat replaces the first). */
  message: z.string(),
  opened_at: z.string(),
  updated_at: z.string(),
  closed_at: z.string().nullable(),
  /** What closed it (the recovered/resolved alert's message); null while open. */
  closed_by: z.string().nullable(),
});

const IncidentBoardSchema = z.object({
  host: z.string(),
  /** When the monitor wrote this (it rewrites it at least every refresh_ms). */
  at: z.string(),
  refresh_ms: z.number(),
  open: z.array(IncidentSchema),
  /** Newest first. */
  closed: z.array(IncidentSchema),
});

export type Incident = z.infer<typeof IncidentSchema>;
export type IncidentBoard = z.infer<typeof IncidentBoardSchema>;

export function incidentBoardKey(prefix: string): string {
  return helmKey(prefix, 'monitor', 'incidents');
}

/** The monitor's write port: the whole board, kept for ttlMs unless written again. */
export interface IncidentBoardWriter {
  write(board: IncidentBoard, ttlMs: number): Promise<void>;
}

/** The page's read port: the board, or null when no monitor wrote one within its TTL. */
export interface IncidentBoardReader {
  read(): Promise<IncidentBoard | null>;
}

export function makeIncidentBoardWriter(redis: Pick<Redis, 'set'>, prefix: string): IncidentBoardWriter {
  return {
    async write(board, ttlMs) {
      await redis.set(incidentBoardKey(prefix), JSON.stringify(board), 'PX', Math.max(1, Math.round(ttlMs)));
    },
  };
}

export function makeIncidentBoardReader(redis: Pick<Redis, 'get'>, prefix: string): IncidentBoardReader {
  return {
    async read() {
      const raw = await redis.get(incidentBoardKey(prefix));
      if (raw === null) return null;
      const parsed = IncidentBoardSchema.safeParse(JSON.parse(raw));
      if (!parsed.success)
        throw new Error(`the monitor's incident board in Redis is not readable: ${parsed.error.message}`);
      return parsed.data;
    },
  };
}
