import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Metrics, RequestFinished } from '../base/metrics.js';
import { ENVIRONMENTS, isAction, isKnownErrorCode } from '../contracts/index.js';

/**
 * The prom-client adapter of the Metrics port (base/metrics.ts), on a registry of its own (never the
 * global one: tests run several Helms in one process). Labels are bounded: what a request echoes
 * (an invalid request's action or environment may be any string) is counted as `invalid`, an error
 * code Helm does not know as `other`. Queue depths are read on each scrape.
 */
export interface QueueDepthSource {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

export interface PromMetrics {
  metrics: Metrics;
  registry: Registry;
  /** The queues whose depths a scrape reads (the wiring hands them in once they are open). */
  watchQueues(queues: readonly QueueDepthSource[]): void;
}

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'paused', 'failed'] as const;

export function makePromMetrics(): PromMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const c = instruments(registry);
  let queues: readonly QueueDepthSource[] = [];
  new Gauge({
    name: 'helm_queue_jobs',
    help: 'Jobs on each bus queue by state, read from Redis at scrape time.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await Promise.all(queues.map((q) => q.getJobCounts(...QUEUE_STATES).catch(() => null)));
      queues.forEach((q, i) => {
        for (const state of QUEUE_STATES)
          if (counts[i]) this.set({ queue: q.name, state }, counts[i]![state] ?? 0);
      });
    },
  });
  const metrics: Metrics = {
    requestFinished: (r) => {
      const labels = requestLabels(r);
      c.requests.inc(labels);
      const rollback = rollbackOf(labels);
      if (rollback) c.rollbacks.inc(rollback);
    },
    approvalWaited: (seconds) => c.approvalWait.observe(seconds),
    operationTook: (action, status, seconds) =>
      c.operations.observe(
        { action: isAction(action) ? action : 'other', status: boundedStatus(status) },
        seconds,
      ),
    healthGateTook: (step, passed, seconds) =>
      c.healthGate.observe({ step, result: passed ? 'passed' : 'failed' }, seconds),
    alertSent: (kind, severity) => c.alerts.inc({ kind, severity }),
    dockerError: (method, kind) => c.dockerErrors.inc({ method, kind }),
    runLogAppended: (seconds) => c.runLogAppend.observe(seconds),
  };
  return {
    metrics,
    registry,
    watchQueues: (q) => {
      queues = q;
    },
  };
}

function instruments(registry: Registry) {
  const registers = [registry];
  return {
    requests: new Counter({
      name: 'helm_requests_total',
      help: 'Requests on helm.actions by action, environment, final status and error code.',
      labelNames: ['action', 'environment', 'status', 'code'],
      registers,
    }),
    rollbacks: new Counter({
      name: 'helm_rollbacks_total',
      help: 'Rollbacks: requested (a rollback action) or automatic (a failed deploy restored), by result.',
      labelNames: ['trigger', 'result'],
      registers,
    }),
    approvalWait: new Histogram({
      name: 'helm_approval_wait_seconds',
      help: "From a request parked for Warden to Warden's accepted decision.",
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21_600, 86_400],
      registers,
    }),
    operations: new Histogram({
      name: 'helm_operation_duration_seconds',
      help: "An executor operation's duration (deploy, rollback, restart, …), health gate included, by final status.",
      labelNames: ['action', 'status'],
      buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 900, 1800],
      registers,
    }),
    healthGate: new Histogram({
      name: 'helm_health_gate_duration_seconds',
      help: "A health gate's steps: the health check of a started container, then the stability window.",
      labelNames: ['step', 'result'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600],
      registers,
    }),
    alerts: new Counter({
      name: 'helm_alerts_total',
      help: 'Alerts put on sentinel.alerts, by kind and severity.',
      labelNames: ['kind', 'severity'],
      registers,
    }),
    dockerErrors: new Counter({
      name: 'helm_docker_errors_total',
      help: "Failed calls to the Docker API, by the port's method and kind (unavailable, not_found, operation, pull, other).",
      labelNames: ['method', 'kind'],
      registers,
    }),
    runLogAppend: new Histogram({
      name: 'helm_run_log_append_seconds',
      help: 'One run-log append, from the call to the entry synced on disk (or its failure).',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    }),
  };
}

type RequestLabels = Record<'action' | 'environment' | 'status' | 'code', string>;

function requestLabels(r: RequestFinished): RequestLabels {
  return {
    action: isAction(r.action) ? r.action : 'invalid',
    environment: (ENVIRONMENTS as readonly unknown[]).includes(r.environment) ? r.environment! : 'invalid',
    status: r.status,
    code: r.code === null ? 'none' : isKnownErrorCode(r.code) ? r.code : 'other',
  };
}

/** A rollback action's result, or a failed deploy that restored the replaced release (or could not). */
function rollbackOf(l: RequestLabels): { trigger: string; result: string } | null {
  if (l.action === 'rollback') return { trigger: 'requested', result: l.status };
  if (l.code === 'rolled_back') return { trigger: 'automatic', result: 'rolled_back' };
  if (l.code === 'rollback_failed') return { trigger: 'automatic', result: 'rollback_failed' };
  return null;
}

/** executed, a known error code, or other. */
function boundedStatus(status: string): string {
  return status === 'executed' || status === 'thrown' || isKnownErrorCode(status) ? status : 'other';
}
