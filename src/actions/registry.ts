import type { ActionHandler } from './action-types.js';
import { healthCheck } from './health-check.js';
import { logs } from './logs.js';
import { stats } from './stats.js';
import { status } from './status.js';

/**
 * Actions this Helm can run, and whether they change anything. Safe reads need no approval in any
 * environment. Every other action is answered `unavailable` until the gate (signed Warden
 * approvals) and the executors land: Helm never runs a change it cannot gate.
 */
export const SAFE_READS: Readonly<Record<string, ActionHandler>> = {
  health_check: healthCheck,
  logs,
  status,
  stats,
};

export function isSafeRead(action: string): boolean {
  return Object.hasOwn(SAFE_READS, action);
}
