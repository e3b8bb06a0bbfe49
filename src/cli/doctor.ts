import { readdir, statfs } from 'node:fs/promises';
import { Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import { QUEUE, WATCHED_QUEUES } from '../bus/queue-names.js';
import { heartbeatKeys } from '../contracts/index.js';
import { queueWatchKey, type QueueWatchReport } from '../bus/queue-watch.js';
import { makeCommandConnection, redactUrl } from '../bus/redis-connection.js';
import { judgeDurability, readRedisDurability } from '../bus/redis-durability.js';
import { judgeQueue } from '../bus/queue-health.js';
import { makeDockerReads } from '../docker/dockerode-reads.js';
import { describeScope, listManagedContainers } from '../docker/scope.js';
import { deriveKey, loadOrCreateHelmKey } from '../keys/helm-key.js';
import { verifyRunLogChains } from '../runlog/index.js';
import { monitorReportKey, type MonitorReport } from '../monitor/monitor-report.js';
import { advisorModelChecks } from './doctor-models.js';
import { jsonDocument, type VerbOutput } from './output.js';

/**
 * `helm doctor`: what an owner needs to know when something is off, one line per check, and on a
 * full disk what takes the space. It changes nothing (it may create the memory folder's key file
 * on a brand-new install, as Helm itself would).
 */
export interface Check {
  level: 'ok' | 'warn' | 'fail';
  name: string;
  message: string;
}

/** Below this share of free space on the memory folder's disk, doctor says what to free. */
const LOW_DISK_SHARE = 0.1;

/** One line per check, or `{ ok, checks: [{ level, name, message }] }`; exit 1 when one fails. */
export function describeDoctor(checks: readonly Check[], json: boolean): VerbOutput {
  const ok = !checks.some((c) => c.level === 'fail');
  const stdout = json
    ? jsonDocument({ ok, checks })
    : checks.map((c) => `${c.level.padEnd(4)}  ${c.name}: ${c.message}\n`).join('');
  return { stdout, stderr: '', exitCode: ok ? 0 : 1 };
}

export async function runDoctor(config: Readonly<Config>): Promise<Check[]> {
  const checks: Check[] = [];
  const add = (level: Check['level'], name: string, message: string) => checks.push({ level, name, message });

  const redis = makeCommandConnection(config.redisUrl, 'helm-doctor');
  redis.on('error', () => undefined);
  try {
    try {
      const d = await readRedisDurability(redis);
      const verdict = judgeDurability(d, config.allowVolatileRedis);
      if (verdict.ok)
        add(
          verdict.warnings.length ? 'warn' : 'ok',
          'redis',
          [
            `Redis ${d.version} at ${redactUrl(config.redisUrl)}: AOF ${d.aofEnabled ? 'on' : 'off'}, maxmemory-policy ${d.maxmemoryPolicy}`,
            ...verdict.warnings,
          ].join('; '),
        );
      else add('fail', 'redis', verdict.problems.join('; '));
      await queueChecks(config, redis, add);
    } catch (err) {
      add(
        'fail',
        'redis',
        `Redis at ${redactUrl(config.redisUrl)} does not answer (${(err as Error).message})`,
      );
    }
  } finally {
    redis.disconnect();
  }

  const docker = makeDockerReads(config.dockerHost);
  let dockerRoot: string | null = null;
  try {
    const info = await docker.info();
    dockerRoot = info.dockerRootDir;
    add('ok', 'docker', `Docker ${info.serverVersion} on ${info.name}, data root ${info.dockerRootDir}`);
    const managed = await listManagedContainers(docker, config.scope);
    const running = managed.filter((c) => c.state === 'running').length;
    add(
      'ok',
      'scope',
      `${managed.length} managed containers (${running} running): ${describeScope(config.scope)}`,
    );
  } catch (err) {
    add('fail', 'docker', (err as Error).message);
  }

  await runLogChecks(config, add);
  await diskChecks(config, dockerRoot, docker, add);
  checks.push(...(await advisorModelChecks(config)));
  return checks;
}

async function queueChecks(
  config: Readonly<Config>,
  redis: ReturnType<typeof makeCommandConnection>,
  add: (l: Check['level'], n: string, m: string) => void,
) {
  const beat = await redis.get(heartbeatKeys(config.queuePrefix, config.instance).any);
  if (beat) {
    const b = JSON.parse(beat) as { at: string; host: string; pid: number; version: string };
    add('ok', 'heartbeat', `Helm ${b.version} is alive (pid ${b.pid} on ${b.host}, last beat ${b.at})`);
  } else
    add('fail', 'heartbeat', `no Helm heartbeat under prefix "${config.queuePrefix}": Helm is not running`);

  const monitor = await redis.get(monitorReportKey(config.queuePrefix, config.host));
  if (monitor) {
    const m = JSON.parse(monitor) as MonitorReport;
    const busiest = [...m.containers].sort((a, b) => (b.cpuPercent ?? 0) - (a.cpuPercent ?? 0))[0];
    const unhealthy = m.pings.filter((p) => p.verdict === 'unhealthy').map((p) => p.service);
    add(
      unhealthy.length > 0 || m.queues?.actions === 'degraded' ? 'warn' : 'ok',
      'monitor',
      [
        `${m.containers.length} managed containers sampled at ${m.at}`,
        ...(busiest
          ? [
              `busiest ${busiest.name} at ${Math.round(busiest.cpuPercent ?? 0)} % CPU, ${Math.round(busiest.memoryPercent ?? 0)} % memory`,
            ]
          : []),
        `${m.pings.length} pinged services${unhealthy.length ? `, unhealthy: ${unhealthy.join(', ')}` : ''}`,
        ...(m.queues?.actions === 'degraded' ? ['helm.actions backlog growing'] : []),
      ].join('; '),
    );
  } else if (config.workers.includes('monitor')) {
    add('warn', 'monitor', `no monitor report for host ${config.host}: the monitor is not running here`);
  }

  const stored = await redis.get(queueWatchKey(config.queuePrefix));
  const report = stored ? (JSON.parse(stored) as QueueWatchReport) : null;
  for (const name of WATCHED_QUEUES) {
    const q = new Queue(name, { connection: redis, prefix: config.queuePrefix });
    try {
      const [consumers, waiting] = await Promise.all([q.getWorkersCount(), q.getWaitingCount()]);
      // The running Helm's trend (a growing backlog needs several samples) if it has one; else now.
      const verdict =
        report?.queues[name]?.state === 'backlog_growing'
          ? report.queues[name]
          : judgeQueue(name, [{ at: Date.now(), consumers, waiting }]);
      add(verdict.state === 'ok' ? 'ok' : 'warn', `queue ${name}`, verdict.message);
    } finally {
      await q.close();
    }
  }
  const actions = new Queue(QUEUE.actions, { connection: redis, prefix: config.queuePrefix });
  try {
    const c = await actions.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    add(
      'ok',
      `queue ${QUEUE.actions}`,
      `${c.waiting} waiting, ${c.active} active, ${c.delayed} delayed, ${c.completed} completed, ${c.failed} failed`,
    );
  } finally {
    await actions.close();
  }
}

async function runLogChecks(
  config: Readonly<Config>,
  add: (l: Check['level'], n: string, m: string) => void,
) {
  let files: string[];
  try {
    // run_log.md, run_log.<instance>.md and their rotated files (run_log.md.<n>.gz)
    files = (await readdir(config.memoryDir)).filter((f) => /^run_log.*\.md(\.[0-9]+(\.gz)?)?$/.test(f));
  } catch {
    add('warn', 'run log', `memory folder ${config.memoryDir} does not exist yet`);
    return;
  }
  if (files.length === 0) {
    add('warn', 'run log', `no run log in ${config.memoryDir} yet`);
    return;
  }
  const key = deriveKey(await loadOrCreateHelmKey(config.memoryDir), 'run-log');
  // Each chain as a whole, across its rotated files (run-log rotation, src/runlog/verify-chain.ts).
  for (const v of await verifyRunLogChains(config.memoryDir, key)) {
    const f = v.liveName;
    const rotated = v.files.length > 1 ? ` across ${v.files.length} files` : '';
    if (v.ok) add('ok', `run log ${f}`, `${v.entries.length} entries, chain verified${rotated}`);
    else
      add(
        'fail',
        `run log ${f}`,
        `chain broken: ${v.problems
          .slice(0, 3)
          .map((p) => `${p.file === f ? '' : `${p.file} `}line ${p.line}: ${p.reason}`)
          .join('; ')}`,
      );
  }
}

async function diskChecks(
  config: Readonly<Config>,
  dockerRoot: string | null,
  docker: ReturnType<typeof makeDockerReads>,
  add: (l: Check['level'], n: string, m: string) => void,
) {
  for (const [label, path] of [
    ['memory folder', config.memoryDir],
    ...(dockerRoot ? [['Docker data root', dockerRoot]] : []),
  ] as const) {
    try {
      const s = await statfs(path);
      const free = s.bavail * s.bsize;
      const share = free / (s.blocks * s.bsize);
      if (share >= LOW_DISK_SHARE) {
        add('ok', `disk ${label}`, `${gib(free)} free (${Math.round(share * 100)}%) at ${path}`);
        continue;
      }
      const usage = await docker.diskUsage().catch(() => null);
      const what = usage
        ? `Docker holds images ${gib(usage.images)}, container layers ${gib(usage.containers)}, volumes ${gib(usage.volumes)}, build cache ${gib(usage.buildCache)}`
        : 'Docker did not say what it holds';
      add(
        'fail',
        `disk ${label}`,
        `only ${gib(free)} free (${Math.round(share * 100)}%) at ${path}; ${what}. Helm deletes nothing on its own: free space (e.g. docker image prune, docker builder prune) after checking what you still need`,
      );
    } catch {
      add('warn', `disk ${label}`, `cannot read free space at ${path}`);
    }
  }
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`;
}
