// Starts one Helm in this process the way the integration tests do (own prefix, memory folder, scope),
// with a log sink that discards (it only counts lines), and two read-only timers for the breakdown:
// a DockerReads wrapper passed through startHelm's `docker` option, and a wrapper around the run
// log's appendMany (append goes through it) on the instance Helm returns. Neither changes behaviour.
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config/config.js';
import type { DockerReads } from '../../src/docker/docker-ports.js';
import { makeDockerReads } from '../../src/docker/dockerode-reads.js';
import { type Helm, startHelm } from '../../src/helm.js';

export interface Timings {
  listContainers: number[];
  inspectContainer: number[];
  /** One sample per run-log appendMany (= one write + fdatasync unless appends shared a group commit). */
  runLogAppend: number[];
}

export interface BenchHelm {
  helm: Helm;
  timings: Timings;
  /** Lines Helm logged at LOG_LEVEL=warn or above. */
  logLines(): number;
  /** The `msg` of the first few of them. */
  firstMessages(): string[];
  close(): Promise<void>;
}

/** The env every bench Helm starts with: its own prefix, memory folder, scope and instance name. */
export function benchHelmEnv(o: {
  redisUrl: string;
  prefix: string;
  memoryDir: string;
  scope: string;
  instance: string;
}): Record<string, string> {
  return {
    REDIS_URL: o.redisUrl,
    HELM_QUEUE_PREFIX: o.prefix,
    HELM_MEMORY_DIR: o.memoryDir,
    HELM_SCOPE_LABELS: o.scope,
    HELM_INSTANCE: o.instance,
    LOG_LEVEL: 'warn',
    // Several bench Helms run at once: none takes the default HTTP port.
    HELM_HTTP_ADDR: 'off',
    ...(process.env['DOCKER_HOST'] ? { DOCKER_HOST: process.env['DOCKER_HOST'] } : {}),
  };
}

export async function startBenchHelm(env: Record<string, string>): Promise<BenchHelm> {
  let lines = 0;
  const first: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n').filter(Boolean)) {
        lines++;
        if (first.length < 5) first.push(messageOf(line));
      }
      cb();
    },
  });
  const config = loadConfig(env);
  const timings: Timings = { listContainers: [], inspectContainer: [], runLogAppend: [] };
  const docker = timedDocker(makeDockerReads(config.dockerHost), timings);
  const helm = await startHelm(config, { logDestination: sink, docker });

  const runLog = helm.runLog;
  const appendMany = runLog.appendMany.bind(runLog);
  runLog.appendMany = async (entries) => {
    const t0 = performance.now();
    try {
      return await appendMany(entries);
    } finally {
      timings.runLogAppend.push(performance.now() - t0);
    }
  };
  return { helm, timings, logLines: () => lines, firstMessages: () => [...first], close: () => helm.close() };
}

function timedDocker(inner: DockerReads, timings: Timings): DockerReads {
  const time = async <T>(into: number[], fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      into.push(performance.now() - t0);
    }
  };
  return {
    ...inner,
    listContainers: () => time(timings.listContainers, () => inner.listContainers()),
    inspectContainer: (id) => time(timings.inspectContainer, () => inner.inspectContainer(id)),
  };
}

function messageOf(line: string): string {
  try {
    const o = JSON.parse(line) as { msg?: unknown; level?: unknown };
    return `${String(o.level ?? '?')}: ${String(o.msg ?? '').slice(0, 160)}`;
  } catch {
    return line.slice(0, 160);
  }
}
