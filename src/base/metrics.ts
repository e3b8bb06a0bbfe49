/**
 * What Helm counts and times for Prometheus, as a port: the request path, the executor and the
 * wiring call it without importing prom-client (its adapter is http/prom-metrics.ts). Every method
 * returns at once and never throws; `noMetrics` is the port when the HTTP server is off.
 */
export interface Metrics {
  /** A request's final result (results/publish-status.ts): action, environment, status, error code. */
  requestFinished(result: RequestFinished): void;
  /** From parked to Warden's decision (accepted), in seconds. */
  approvalWaited(seconds: number): void;
  /** How long an executor operation took (deploy, rollback, …): status `executed`, its error code, or `thrown`. */
  operationTook(action: string, status: string, seconds: number): void;
  /** A health gate's step (the health check, the stability window), passed or failed, in seconds. */
  healthGateTook(step: 'health_check' | 'stability_window', passed: boolean, seconds: number): void;
  /** An alert on sentinel.alerts, by kind and severity. */
  alertSent(kind: string, severity: string): void;
  /** A call to the Docker API that failed, by the port's method name and what kind of failure. */
  dockerError(method: string, kind: DockerErrorKind): void;
  /** One run-log append, from the call to the entry on disk (or its failure), in seconds. */
  runLogAppended(seconds: number): void;
}

/** unavailable: no answer; not_found: a 404; operation: another status code; pull; other. */
export type DockerErrorKind = 'unavailable' | 'not_found' | 'operation' | 'pull' | 'other';

export interface RequestFinished {
  action: string | null;
  environment: string | null;
  status: string;
  code: string | null;
}

const nothing = () => undefined;

export const noMetrics: Metrics = {
  requestFinished: nothing,
  approvalWaited: nothing,
  operationTook: nothing,
  healthGateTook: nothing,
  alertSent: nothing,
  dockerError: nothing,
  runLogAppended: nothing,
};
