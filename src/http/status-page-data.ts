import type { Incident, IncidentBoard } from '../bus/incident-board.js';
import type { Alert, ApprovalRequest, ContainerStatus } from '../contracts/index.js';
import type { Readiness } from './readiness.js';

/**
 * What the status page shows (GET /status.json), assembled from what the wiring read: pure, so it is
 * tested as data. Values stay as they came (labels, log lines and reasons are untrusted): the page
 * puts each one in the DOM as text, never as markup.
 */
export interface StatusPageInput {
  now: Date;
  containers: readonly ContainerStatus[];
  /** memory/rollback/<service>.md by service; null when the service has none. */
  rollbackDocs: Readonly<Record<string, string | null>>;
  /** Requests still parked for Warden. */
  parked: readonly ApprovalRequest[];
  runLog: {
    ok: boolean;
    problems: ReadonlyArray<{ file: string; line: number; reason: string }>;
    entries: ReadonlyArray<RunLogLine>;
  };
  /** The alerts this process sent, oldest first. */
  alerts: readonly Alert[];
  /** The monitor's incident board (bus/incident-board.ts); null: no monitor wrote one within its TTL. */
  incidents: IncidentBoard | null;
  readiness: Readiness;
  /** What could not be read this time, and why (shown in place of it; the rest still shows). */
  unavailable: readonly string[];
}

export interface RunLogLine {
  seq: number;
  at: string;
  event: string;
  action: string | null;
  target: string | null;
  environment: string | null;
  code: string | null;
  message: string;
  file?: string;
}

export interface StatusPageData {
  generated_at: string;
  helm: Readiness;
  unavailable: string[];
  services: Array<{
    service: string;
    environment: string;
    rollback_doc: string | null;
    containers: Array<{
      name: string;
      state: string;
      health: string;
      healthy: boolean;
      release: string | null;
      image: string;
      uptime_s: number | null;
      restart_count: number;
    }>;
  }>;
  parked: Array<{
    approval_id: string;
    service: string;
    action: string;
    environment: string;
    reason: string;
    expires_at: string;
    /** Seconds until Warden's deadline; 0 once passed. */
    time_left_s: number;
    steps: string[];
    plan: unknown;
  }>;
  run_log: { verified: boolean; problems: string[]; entries: RunLogLine[] };
  alerts: Array<Pick<Alert, 'at' | 'kind' | 'severity' | 'message'> & { target: string | null }>;
  monitor: {
    /** False when the monitor's board is missing (no monitor running, or it stopped refreshing it). */
    reporting: boolean;
    host: string | null;
    /** When the monitor last wrote its board. */
    at: string | null;
    /** Critical first, then oldest first; each with how long it has been open. */
    open: Array<Incident & { open_for_s: number }>;
    /** Newest first. */
    closed: Incident[];
  };
}

export const STATUS_PAGE_LIMITS = {
  runLogEntries: 50,
  alerts: 20,
  problems: 10,
  closedIncidents: 20,
} as const;

export function assembleStatusPage(input: StatusPageInput): StatusPageData {
  const { now, runLog } = input;
  return {
    generated_at: now.toISOString(),
    helm: input.readiness,
    unavailable: [...input.unavailable],
    services: servicesOf(input),
    parked: input.parked
      .map((r) => ({
        approval_id: r.approval_id,
        service: r.plan.service,
        action: r.plan.action,
        environment: r.plan.environment,
        reason: r.request.reason,
        expires_at: r.expires_at,
        time_left_s: Math.max(0, Math.floor((Date.parse(r.expires_at) - now.getTime()) / 1000)),
        steps: [...r.steps],
        plan: r.plan,
      }))
      .sort((a, b) => a.time_left_s - b.time_left_s),
    run_log: {
      verified: runLog.ok,
      problems: runLog.problems
        .slice(0, STATUS_PAGE_LIMITS.problems)
        .map((p) => `${p.file}:${p.line}: ${p.reason}`),
      // Newest first.
      entries: runLog.entries.slice(-STATUS_PAGE_LIMITS.runLogEntries).reverse(),
    },
    alerts: input.alerts
      .slice(-STATUS_PAGE_LIMITS.alerts)
      .reverse()
      .map((a) => ({
        at: a.at,
        kind: a.kind,
        severity: a.severity,
        message: a.message,
        target: a.target ?? null,
      })),
    monitor: monitorOf(input.incidents, now),
  };
}

const SEVERITY_RANK: Readonly<Record<string, number>> = { critical: 0, warning: 1, info: 2 };

function monitorOf(board: IncidentBoard | null, now: Date): StatusPageData['monitor'] {
  if (!board) return { reporting: false, host: null, at: null, open: [], closed: [] };
  return {
    reporting: true,
    host: board.host,
    at: board.at,
    open: board.open
      .map((i) => ({
        ...i,
        open_for_s: Math.max(0, Math.floor((now.getTime() - Date.parse(i.opened_at)) / 1000)),
      }))
      .sort(
        (a, b) =>
          (SEVERITY_RANK[a.severity] ?? 3) - (SEVERITY_RANK[b.severity] ?? 3) ||
          (a.opened_at < b.opened_at ? -1 : a.opened_at > b.opened_at ? 1 : 0),
      ),
    closed: board.closed.slice(0, STATUS_PAGE_LIMITS.closedIncidents),
  };
}

function servicesOf(input: StatusPageInput): StatusPageData['services'] {
  const byService = new Map<string, ContainerStatus[]>();
  for (const c of input.containers) byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  return [...byService.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, cs]) => ({
      service,
      // A service's containers share an environment; a mix shows as such rather than picking one.
      environment: [...new Set(cs.map((c) => c.environment))].join('+'),
      rollback_doc: input.rollbackDocs[service] ?? null,
      containers: cs.map((c) => ({
        name: c.name,
        state: c.state,
        health: c.health,
        healthy: c.healthy,
        release: c.release,
        image: c.image,
        uptime_s: c.uptime_s,
        restart_count: c.restart_count,
      })),
    }));
}
