import type { DockerErrorKind, Metrics } from '../base/metrics.js';
import {
  DockerNotFoundError,
  DockerOperationError,
  DockerPullError,
  DockerUnavailableError,
} from '../docker/docker-errors.js';
import type { ExecOperations } from '../executor/run-exec-job.js';
import type { RunLog } from '../runlog/index.js';

/**
 * The Metrics port fed from the outside of three parts, so that none of them knows of metrics: the
 * run log's appends timed, each executor operation timed, each Docker call that fails counted. Each
 * wrapper passes every call, result and error through unchanged; used only when the HTTP server is on.
 */
const seconds = (startNs: bigint) => Number(process.hrtime.bigint() - startNs) / 1e9;

export function meterRunLog(runLog: RunLog, metrics: Metrics): RunLog {
  const timed =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = process.hrtime.bigint();
      try {
        return await fn(...args);
      } finally {
        metrics.runLogAppended(seconds(start));
      }
    };
  return {
    get path() {
      return runLog.path;
    },
    append: timed((entry) => runLog.append(entry)),
    appendMany: timed((entries) => runLog.appendMany(entries)),
    status: () => runLog.status(),
    onHealthChange: (listener) => runLog.onHealthChange(listener),
    close: () => runLog.close(),
  };
}

export function meterOperations(operations: ExecOperations, metrics: Metrics): ExecOperations {
  return Object.fromEntries(
    Object.entries(operations).map(([action, run]) => [
      action,
      run &&
        (async (ctx: Parameters<NonNullable<typeof run>>[0]) => {
          const start = process.hrtime.bigint();
          let status = 'thrown';
          try {
            const result = await run(ctx);
            status = result.ok ? 'executed' : result.code;
            return result;
          } finally {
            metrics.operationTook(action, status, seconds(start));
          }
        }),
    ]),
  );
}

/** Every method of a Docker port, its failures counted by method and kind; streams and values untouched. */
export function meterDocker<T extends object>(port: T, metrics: Metrics): T {
  const count = (method: string, err: unknown) => metrics.dockerError(method, dockerErrorKind(err));
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = value.apply(target, args);
        } catch (err) {
          count(prop, err);
          throw err;
        }
        if (result instanceof Promise)
          return result.catch((err: unknown) => {
            count(prop, err);
            throw err;
          });
        return result;
      };
    },
  });
}

function dockerErrorKind(err: unknown): DockerErrorKind {
  if (err instanceof DockerUnavailableError) return 'unavailable';
  if (err instanceof DockerNotFoundError) return 'not_found';
  if (err instanceof DockerOperationError) return 'operation';
  if (err instanceof DockerPullError) return 'pull';
  // What the adapter passes through as dockerode raised it: an HTTP status, or a socket error.
  const e = err as { statusCode?: unknown; code?: unknown };
  if (e?.statusCode === 404) return 'not_found';
  if (typeof e?.statusCode === 'number') return 'operation';
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOENT' || e?.code === 'EACCES') return 'unavailable';
  return 'other';
}
