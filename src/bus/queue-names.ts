import { PLAIN_REQUEST_QUEUE } from '../contracts/plain-request.js';

/** The bus's public queues (CONTRACT.md "Transport"). Every other queue and key is Helm's own. */
export const QUEUE = {
  /** Forge, the owner's CLI and other agents → Helm: ActionRequest jobs. */
  actions: 'helm.actions',
  /** Helm → Warden: ApprovalRequest jobs. */
  wardenRequests: 'warden.requests',
  /** Warden → Helm: ApprovalDecision jobs. */
  approvals: 'helm.approvals',
  /** Helm → Sentinel: Alert jobs. */
  alerts: 'sentinel.alerts',
  /** The owner's CLI and other agents → Helm's advisor: requests in plain words (contract 1.2). */
  requests: PLAIN_REQUEST_QUEUE,
} as const;

/** The stem of Helm's internal queues of approved or auto-approved plans (execQueueName). */
export const EXEC_QUEUE = 'helm.exec';

/**
 * One host's queue of approved plans, `helm.exec.<host id>` (contract 1.5, decision 92): only the
 * executors of that host consume it, so a plan never reaches another host's engine.
 */
export function execQueueName(host: string): string {
  return `${EXEC_QUEUE}.${host}`;
}

/**
 * One host's queue of Warden's decisions forwarded to it (contract 1.5, decision 96): a decision for a
 * plan on host H is consumed by H's gate, so the consumption lands in H's run log, which H's executor
 * checks. Only Helm writes it (Warden's Redis user reaches `helm.approvals` alone).
 */
export function approvalsQueueName(host: string): string {
  return `${QUEUE.approvals}.${host}`;
}

/** The queues each worker kind consumes on host `host`: the heartbeat lists queue names. */
export function workerQueues(kind: 'gate' | 'executor' | 'monitor', host: string): string[] {
  // helm.requests (the advisor's plain-words requests) is the request path's too (wiring/advisor.ts).
  if (kind === 'gate') return [QUEUE.actions, QUEUE.approvals, approvalsQueueName(host), QUEUE.requests];
  return kind === 'executor' ? [execQueueName(host)] : [];
}

/** The queues other agents consume, which Helm watches for an absent consumer or a growing backlog. */
export const WATCHED_QUEUES = [QUEUE.wardenRequests, QUEUE.alerts] as const;

/** Helm's private Redis keys live under `<prefix>:helm:` (the heartbeat's are the contract's: heartbeatKeys). */
export function helmKey(prefix: string, ...parts: string[]): string {
  return [prefix, 'helm', ...parts].join(':');
}
