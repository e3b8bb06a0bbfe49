import { z } from 'zod';
import { patternString } from './primitives.js';

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];
export const AlertSeveritySchema = z.enum(ALERT_SEVERITIES);

/** The alert kinds of contract v1. Later versions may add kinds: a consumer handles an unknown one by severity. */
export const ALERT_KINDS = [
  'downtime',
  'unhealthy',
  'recovered',
  'crash_loop',
  'stopped_by_owner',
  'cpu_high',
  'memory_high',
  'disk_high',
  'resolved',
  'log_growth',
  'deploy_failed',
  'rolled_back',
  'stale_plan',
  'approval_expired',
  'security',
  'consumer_absent',
  'helm_degraded',
  'action_result',
  'diagnosis',
  // --- contract 1.5 (several hosts) ---
  'host_down',
  // --- end 1.5 ---
] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
export const AlertKindSchema = z.enum(ALERT_KINDS);

export const ConsumerAlertKindSchema = patternString(
  /^[a-z][a-z0-9_]{0,63}$/,
  'must be a lowercase kind (a-z, 0-9, _; at most 64)',
  'Known kinds are listed in AlertKind; handle any other by its severity.',
);

export function isKnownAlertKind(kind: string): kind is AlertKind {
  return (ALERT_KINDS as readonly string[]).includes(kind);
}
