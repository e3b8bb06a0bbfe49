import type { Config } from '../config/config.js';
import {
  ALL_IN_SCOPE,
  type ContainerStats,
  type ContainerStatus,
  type HostStats,
  StatsDataSchema,
  StatusDataSchema,
} from '../contracts/index.js';
import { makeInventoryReader } from '../bus/host-inventory.js';
import { formatBytes } from '../monitor/log-growth.js';
import { withCommandRedis } from './cli-redis.js';
import { hostsTable } from './hosts-table.js';
import { jsonDocument, oneLine, type VerbOutput } from './output.js';
import { sendRequest } from './request-command.js';
import { formatTable } from './table.js';

/**
 * `helm status [service]` and `helm stats [service]`: the safe reads of contract 1.3 over the bus,
 * like any agent's request (so in the run log). Without a service: everything in scope (`*`).
 * `--json` prints the final ActionResult as one JSON document; otherwise a table. A failed read is
 * one line on stderr and exit code 1 (its JSON still on stdout with --json).
 */
export type ReadVerb = 'status' | 'stats';

export interface ReadOptions {
  json: boolean;
  environment: string;
  timeoutMs: number;
}

export type ReadOutput = VerbOutput;

export async function runReadCommand(
  config: Readonly<Config>,
  verb: ReadVerb,
  service: string | undefined,
  opts: ReadOptions,
): Promise<ReadOutput> {
  const request = {
    action: verb,
    target: service ?? ALL_IN_SCOPE,
    environment: opts.environment,
    reason: `helm ${verb} (owner CLI)`,
    requested_by: 'owner-cli',
    params: {},
  };
  const result = (await sendRequest(config, request, { timeoutMs: opts.timeoutMs })) as Record<
    string,
    unknown
  >;
  const out = describeReadResult(verb, result, opts.json);
  if (verb !== 'status' || opts.json || out.exitCode !== 0) return out;
  // Every host on the bus (issue 13): the read above was answered by one of them (result.host).
  const hosts = await withCommandRedis(config.redisUrl, 'helm-cli-hosts', (redis) =>
    makeInventoryReader(redis, config.queuePrefix).read(),
  ).catch(() => null);
  const answered = typeof result['host'] === 'string' ? `answered by host ${result['host']}` : '';
  const table = hosts ? hostsTable(hosts, new Date()) : 'hosts: the inventory could not be read';
  return { ...out, stdout: [out.stdout.trimEnd(), answered, table].filter(Boolean).join('\n\n') + '\n' };
}

/** What the verb prints for a final result (pure). */
export function describeReadResult(
  verb: ReadVerb,
  result: Record<string, unknown>,
  json: boolean,
): ReadOutput {
  return describeActionResult(verb, result, json, verb === 'status' ? statusTable : statsTable);
}

/**
 * A final ActionResult as a verb prints it (pure): exit 0 only when executed; a failed one is one
 * line on stderr. With --json the result on one line (a failed one carries `error: { code, message }`).
 * Otherwise `table` of its data, or without one (`helm request`) the whole result, indented.
 */
export function describeActionResult(
  verb: string,
  result: Record<string, unknown>,
  json: boolean,
  table?: (data: unknown) => string,
): VerbOutput {
  const executed = result['status'] === 'executed';
  const exitCode = executed ? 0 : 1;
  const error = result['error'] as { code?: string; message?: string } | undefined;
  const stderr = executed
    ? ''
    : `helm ${verb}: ${error?.code ?? String(result['status'])}: ${oneLine(error?.message ?? String(result['outcome'] ?? ''))}\n`;
  if (json) return { stdout: jsonDocument(result), stderr, exitCode };
  if (!table) return { stdout: `${JSON.stringify(result, null, 2)}\n`, stderr, exitCode };
  if (!executed) return { stdout: '', stderr, exitCode };
  return { stdout: `${table(result['data'])}\n`, stderr: '', exitCode };
}

export function statusTable(data: unknown): string {
  const { containers, truncated } = StatusDataSchema.parse(data);
  if (containers.length === 0) return 'no containers';
  const header = [
    'SERVICE',
    'CONTAINER',
    'STATE',
    'HEALTH',
    'ENV',
    'RELEASE',
    'IMAGE',
    'UPTIME',
    'RESTARTS',
    'IN FLIGHT',
  ];
  const rows = containers.map((c) => [
    c.service,
    c.name,
    c.state,
    c.healthy ? 'healthy' : c.health,
    c.environment,
    c.release ?? '-',
    c.image,
    c.uptime_s === null ? '-' : duration(c.uptime_s),
    String(c.restart_count),
    inFlight(c.in_flight),
  ]);
  return [formatTable(header, rows), ...(truncated ? ['(more containers cut to fit 64 KiB)'] : [])].join(
    '\n',
  );
}

function inFlight(f: ContainerStatus['in_flight']): string {
  const parts = [
    ...(f.change ? [f.change_action ? `${f.change_action} under way` : 'change under way'] : []),
    ...f.approvals.map((a) => `${a.action} awaits Warden (${a.approval_id.slice(0, 8)})`),
  ];
  return parts.length > 0 ? parts.join('; ') : '-';
}

export function statsTable(data: unknown): string {
  const { containers, host, truncated } = StatsDataSchema.parse(data);
  const header = ['SERVICE', 'CONTAINER', 'CPU %', 'MEM USAGE / LIMIT', 'NET I/O', 'BLOCK I/O'];
  const rows = containers.map((c: ContainerStats) => [
    c.service,
    c.name,
    c.cpu_percent === null ? '-' : c.cpu_percent.toFixed(2),
    c.running ? `${formatBytes(c.memory_bytes)} / ${formatBytes(c.memory_limit_bytes)}` : 'not running',
    `${formatBytes(c.network_rx_bytes)} / ${formatBytes(c.network_tx_bytes)}`,
    `${formatBytes(c.block_read_bytes)} / ${formatBytes(c.block_write_bytes)}`,
  ]);
  return [
    containers.length > 0 ? formatTable(header, rows) : 'no containers',
    ...(truncated ? ['(more containers cut to fit 64 KiB)'] : []),
    '',
    hostLine(host),
  ].join('\n');
}

function hostLine(host: HostStats): string {
  const cpu = host.cpu_percent === null ? 'unknown' : `${host.cpu_percent.toFixed(1)} %`;
  const disks = host.disks.map(
    (d) =>
      `${d.paths.join(', ')} ${d.used_percent.toFixed(1)} % used (${formatBytes(d.available_bytes)} free)`,
  );
  return [
    `host: CPU ${cpu}, memory ${formatBytes(host.memory_used_bytes)} / ${formatBytes(host.memory_total_bytes)}`,
    ...disks.map((d) => `disk: ${d}`),
  ].join('\n');
}

function duration(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}
