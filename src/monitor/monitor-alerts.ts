import type { AlertInput } from '../bus/alert-sender.js';
import { TARGET_PATTERN } from '../contracts/identifiers.js';
import type { RunLogEntryInput } from '../runlog/index.js';
import type { AutoRestartVerdict } from './auto-restart.js';
import {
  type ContainerFacts,
  type Decision,
  dockerWillRestart,
  type Environment,
} from './container-state.js';

/**
 * What the monitor's decisions say to Sentinel and to the run log (pure). Severities: downtime and
 * unhealthy are critical in production, warning in staging, info in dev (where Helm restarts crashes
 * itself); a crash loop is critical in production, warning elsewhere; recoveries, owner stops and
 * removals are info.
 */

export function incidentSeverity(env: Environment): AlertInput['severity'] {
  return env === 'production' ? 'critical' : env === 'staging' ? 'warning' : 'info';
}

/** The alert's `target` is the service when it is a valid target name (the contract's rule). */
export function alertTarget(service: string): { target?: string } {
  return TARGET_PATTERN.test(service) ? { target: service } : {};
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

const iso = (ms: number) => new Date(ms).toISOString();

function who(f: ContainerFacts): string {
  return f.name === f.service ? `${f.name} (${f.environment})` : `${f.name} (${f.service}, ${f.environment})`;
}

function restartWords(f: ContainerFacts, verdict: AutoRestartVerdict | null, d: DownDecision): string {
  if (verdict?.action === 'restart')
    return `; Helm restarts it in ${formatDuration(verdict.delayMs)} (crash ${verdict.attempt} within the crash-loop window)`;
  const policy = f.restartPolicy.name;
  if (dockerWillRestart(f.restartPolicy, f.restartCount, d.exitCode, d.cause))
    return `; Docker's restart policy (${policy}) restarts it: Helm leaves that to Docker`;
  switch (verdict?.reason) {
    case 'not_dev':
      return `; Helm does not restart ${f.environment} containers on its own`;
    case 'crash_loop':
      return '; it is crash-looping: Helm stopped restarting it';
    case 'protected':
      return '; Helm never changes it (protected role)';
    case 'cannot_tell_crash_from_stop':
      return '; it may have been stopped on purpose, so Helm does not restart it';
    case 'not_a_crash':
      return '; someone killed it, so Helm does not restart it';
    case 'read_only':
      return '; this Helm runs with a read-only Docker and restarts nothing';
    default:
      return '';
  }
}

type DownDecision = Extract<Decision, { kind: 'down' }>;

function causeWords(d: DownDecision, signal: string | null): string {
  if (d.reconciled)
    return `found ${d.cause === 'oom' ? 'OOM-killed' : `exited (exit code ${d.exitCode ?? '?'})`} after the events stream was lost, stopped at ${iso(d.since)}`;
  switch (d.cause) {
    case 'oom':
      return `the kernel's OOM killer ended it (exit code ${d.exitCode ?? '?'})`;
    case 'killed':
      return `it was killed${signal ? ` (signal ${signal})` : ''} without a docker stop (exit code ${d.exitCode ?? '?'})`;
    case 'crash':
      return `it exited with code ${d.exitCode ?? '?'} with no stop or kill before it (a crash)`;
  }
}

export interface DecisionContext {
  facts: ContainerFacts;
  /** For down decisions: what the auto-restart rule said. */
  restart?: AutoRestartVerdict | null;
  /** The kill signal seen before the die, if any. */
  signal?: string | null;
  /** Docker's last health-check output (or the failing ping's detail), for unhealthy. */
  healthOutput?: string | null;
  /** For unhealthy found by Helm's pings: the check (describeSpec); absent: Docker's HEALTHCHECK. */
  healthCheck?: string;
}

/** The alert a decision sends, or null (logged only). */
export function alertForDecision(d: Decision, ctx: DecisionContext): AlertInput | null {
  const f = ctx.facts;
  const base = { ...alertTarget(f.service), environment: f.environment };
  const container = { container: f.name, container_id: f.id.slice(0, 12), service: f.service };
  switch (d.kind) {
    case 'down': {
      if (!d.alert) return null;
      const escalated = d.continued;
      return {
        ...base,
        severity: incidentSeverity(f.environment),
        kind: 'downtime',
        message: `${who(f)} is down${escalated ? ' (it was unhealthy first)' : ''}: ${causeWords(d, ctx.signal ?? null)}${restartWords(f, ctx.restart ?? null, d)}`,
        details: {
          ...container,
          cause: d.cause,
          exit_code: d.exitCode,
          since: iso(d.since),
          reconciled: d.reconciled,
          docker_restart_policy: f.restartPolicy.name || 'no',
          docker_restart_count: f.restartCount,
          helm_restarts:
            ctx.restart?.action === 'restart'
              ? { in_ms: ctx.restart.delayMs, attempt: ctx.restart.attempt }
              : (ctx.restart?.reason ?? null),
        },
        dedup_key: d.incidentKey,
      };
    }
    case 'unhealthy':
      return {
        ...base,
        severity: incidentSeverity(f.environment),
        kind: 'unhealthy',
        message: `${who(f)} is unhealthy: ${ctx.healthCheck ? `its health check (${ctx.healthCheck}) fails on Helm's pings` : 'its Docker HEALTHCHECK fails'}${ctx.healthOutput ? ` (${ctx.healthOutput.trim().slice(0, 300)})` : ''}`,
        details: {
          ...container,
          since: iso(d.since),
          health_output: ctx.healthOutput ?? null,
          check: ctx.healthCheck ?? 'docker',
        },
        dedup_key: d.incidentKey,
      };
    case 'recovered':
      return {
        ...base,
        severity: 'info',
        kind: 'recovered',
        message: `${who(f)} is back after ${formatDuration(d.outageMs)} (${d.opened === 'unhealthy' ? 'unhealthy' : 'down'} since ${iso(d.since)}, up again at ${iso(d.backAt)})`,
        details: {
          ...container,
          outage_ms: d.outageMs,
          since: iso(d.since),
          back_at: iso(d.backAt),
          opened_as: d.opened,
        },
        dedup_key: d.incidentKey,
      };
    case 'crash_loop':
      return {
        ...base,
        severity: f.environment === 'production' ? 'critical' : 'warning',
        kind: 'crash_loop',
        message: `${who(f)} is crash-looping: ${d.crashesInWindow} crashes within the crash-loop window${f.environment === 'dev' ? '; Helm stopped restarting it' : ''}; the owner must look at it`,
        details: { ...container, crashes: d.crashesInWindow, since: iso(d.since) },
        dedup_key: d.incidentKey,
      };
    case 'stopped_by_owner':
      return {
        ...base,
        severity: 'info',
        kind: 'stopped_by_owner',
        message: `${who(f)} was ${d.removed ? 'removed (docker rm -f)' : 'stopped (docker stop)'} outside Helm: not a downtime; Helm will not restart it`,
        details: { ...container, exit_code: d.exitCode, at: iso(d.at), removed: d.removed },
        dedup_key: `stopped_by_owner:${f.service}:${f.id.slice(0, 12)}:${d.at}`,
      };
    case 'removed':
      return {
        ...base,
        severity: 'info',
        kind: 'resolved',
        message: d.intended
          ? `${who(f)} was replaced by Helm while it was down: this incident is closed`
          : `${who(f)} was removed while it was down: this incident is closed`,
        details: { ...container, at: iso(d.at) },
        dedup_key: d.incidentKey,
      };
    case 'intended':
    case 'late_stop':
      return null;
  }
}

/** The run-log entry of a decision (every decision is logged; `^[a-z][a-z_]{0,39}$` event names). */
export function logEntryForDecision(d: Decision, ctx: DecisionContext): RunLogEntryInput {
  const f = ctx.facts;
  const common = { target: f.service, environment: f.environment };
  const alert = alertForDecision(d, ctx);
  switch (d.kind) {
    case 'down':
      return {
        ...common,
        event: 'monitor_down',
        code: d.cause,
        message: alert
          ? `${alert.message} [${d.incidentKey}]`
          : `${who(f)} crashed again (exit code ${d.exitCode ?? '?'}) within incident ${d.incidentKey}; crash ${d.crashesInWindow} in the window`,
      };
    case 'unhealthy':
      return { ...common, event: 'monitor_unhealthy', message: `${alert?.message} [${d.incidentKey}]` };
    case 'recovered':
      return { ...common, event: 'monitor_recovered', message: `${alert?.message} [${d.incidentKey}]` };
    case 'crash_loop':
      return { ...common, event: 'crash_loop', message: `${alert?.message} [${d.incidentKey}]` };
    case 'stopped_by_owner':
      return { ...common, event: 'monitor_owner_stop', message: alert?.message ?? '' };
    case 'removed':
      return { ...common, event: 'monitor_removed', message: `${alert?.message} [${d.incidentKey}]` };
    case 'intended':
      return {
        ...common,
        event: 'monitor_intended',
        message: `${who(f)}: ${d.action} during Helm's own operation on ${f.service}: no alert`,
      };
    case 'late_stop':
      return {
        ...common,
        event: 'monitor_late_stop',
        message: `${who(f)}: docker stop arrived after the grace: the downtime alert already went out`,
      };
  }
}
