import { same } from './replacement-options.js';
import type { ContainerConfigRecord } from '../releases/release-config.js';

/**
 * The `docker run` argv that creates a recorded container again, as the rollback document shows it
 * (pure). Everything the container set is written: every label, env by name only (`-e NAME` takes the
 * value from the shell that runs it, so no value, a secret's least of all, is written), mounts, ports,
 * restart policy, network mode, user, workdir, entrypoint and cmd, init, stop signal and timeout,
 * resource limits, healthcheck, log driver. What the container has because its image says so (an env
 * entry, cmd, entrypoint, healthcheck, user, workdir equal to the image's) is left to the image, so
 * the owner's shell need not hold the image's own PATH. Known limit of the docker CLI: an entrypoint
 * of several words becomes `--entrypoint <first>` with the rest before the cmd.
 */
export interface ImageDefaults {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | string | null;
  Healthcheck?: unknown;
  User?: string;
  WorkingDir?: string;
}

type Mount = {
  Type: string;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
};
type Healthcheck = {
  Test?: string[];
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  Retries?: number;
};

/** The env names the shell must hold for `dockerRunArgv` (the image provides the rest). */
export function envNamesToSet(config: ContainerConfigRecord, image: ImageDefaults | null): string[] {
  const imageEnv = new Set(image?.Env ?? []);
  return config.env.filter((e) => !('value' in e && imageEnv.has(`${e.name}=${e.value}`))).map((e) => e.name);
}

export function restartPolicyArg(config: ContainerConfigRecord): string {
  const p = config.host_config['RestartPolicy'] as { Name?: string; MaximumRetryCount?: number } | undefined;
  if (!p?.Name) return 'no';
  return p.Name === 'on-failure' && p.MaximumRetryCount ? `on-failure:${p.MaximumRetryCount}` : p.Name;
}

export function dockerRunArgv(
  name: string,
  imageRef: string,
  config: ContainerConfigRecord,
  image: ImageDefaults | null,
): string[] {
  const hc = config.host_config;
  const args: string[] = ['docker', 'run', '-d', '--name', name];
  const network = hc['NetworkMode'] as string | undefined;
  if (network && network !== 'default') args.push('--network', network);
  if (hc['Init'] === true) args.push('--init');
  const policy = restartPolicyArg(config);
  if (policy !== 'no') args.push('--restart', policy);
  if (config.tty) args.push('--tty');
  if (config.open_stdin) args.push('--interactive');
  for (const env of envNamesToSet(config, image)) args.push('-e', env);
  for (const [k, v] of Object.entries(config.labels)) args.push('--label', `${k}=${v}`);
  args.push(...storageArgs(config), ...portArgs(config), ...processArgs(config, image), ...limitArgs(hc));
  args.push(...healthArgs(config, image));
  const entrypoint = listOf(config.entrypoint);
  const ownEntrypoint = !same(config.entrypoint, image?.Entrypoint);
  // With its own entrypoint, Docker never gave the container the image's Cmd: what it has, it set.
  const ownCmd = ownEntrypoint || !same(config.cmd, image?.Cmd);
  if (ownEntrypoint) args.push('--entrypoint', entrypoint[0] ?? '');
  args.push(imageRef);
  if (ownEntrypoint) args.push(...entrypoint.slice(1));
  if (ownCmd) args.push(...(config.cmd ?? []));
  return args;
}

function storageArgs(config: ContainerConfigRecord): string[] {
  const hc = config.host_config;
  const args: string[] = [];
  const targets = new Set<string>();
  for (const b of (hc['Binds'] as string[] | null) ?? []) {
    args.push('-v', b);
    targets.add(b.split(':')[1] ?? '');
  }
  for (const m of (hc['Mounts'] as Mount[] | null) ?? []) {
    targets.add(m.Target);
    const parts = [`type=${m.Type}`];
    if (m.Source) parts.push(`src=${m.Source}`);
    parts.push(`dst=${m.Target}`);
    if (m.ReadOnly) parts.push('readonly');
    if (m.TmpfsOptions?.SizeBytes) parts.push(`tmpfs-size=${m.TmpfsOptions.SizeBytes}`);
    if (m.TmpfsOptions?.Mode) parts.push(`tmpfs-mode=${m.TmpfsOptions.Mode.toString(8)}`);
    args.push('--mount', parts.join(','));
  }
  for (const [path, opts] of Object.entries((hc['Tmpfs'] as Record<string, string> | null) ?? {})) {
    args.push('--tmpfs', opts ? `${path}:${opts}` : path);
    targets.add(path);
  }
  // Volumes the container declared (or its image did) that no mount names: anonymous, as before.
  for (const v of config.volumes) if (!targets.has(v)) args.push('-v', v);
  return args;
}

function portArgs(config: ContainerConfigRecord): string[] {
  const args: string[] = [];
  const bindings = (config.host_config['PortBindings'] ?? {}) as Record<
    string,
    Array<{ HostIp?: string; HostPort?: string }> | null
  >;
  for (const [port, list] of Object.entries(bindings))
    for (const b of list ?? [])
      args.push('-p', `${b.HostIp ? `${b.HostIp}:` : ''}${b.HostPort ?? ''}:${port}`);
  for (const port of config.exposed_ports) if (!(port in bindings)) args.push('--expose', port);
  return args;
}

function processArgs(config: ContainerConfigRecord, image: ImageDefaults | null): string[] {
  const args: string[] = [];
  if (config.user && config.user !== image?.User) args.push('--user', config.user);
  if (config.working_dir && config.working_dir !== image?.WorkingDir)
    args.push('--workdir', config.working_dir);
  if (config.stop_signal) args.push('--stop-signal', config.stop_signal);
  if (config.stop_timeout !== null) args.push('--stop-timeout', String(config.stop_timeout));
  return args;
}

/** Resource limits and the other HostConfig settings `docker run` has a flag for (only those set). */
function limitArgs(hc: Record<string, unknown>): string[] {
  const args: string[] = [];
  const num = (key: string, flag: string, render: (n: number) => string = String) => {
    const v = hc[key];
    if (typeof v === 'number' && v !== 0) args.push(flag, render(v));
  };
  num('Memory', '--memory');
  num('MemorySwap', '--memory-swap');
  num('MemoryReservation', '--memory-reservation');
  num('NanoCpus', '--cpus', (n) => String(n / 1e9));
  num('CpuShares', '--cpu-shares');
  num('CpuPeriod', '--cpu-period');
  num('CpuQuota', '--cpu-quota');
  num('PidsLimit', '--pids-limit');
  // Docker's default /dev/shm (64 MiB) is left out: every container has it.
  if (typeof hc['ShmSize'] === 'number' && hc['ShmSize'] !== 64 * 1024 * 1024) num('ShmSize', '--shm-size');
  if (typeof hc['CpusetCpus'] === 'string' && hc['CpusetCpus']) args.push('--cpuset-cpus', hc['CpusetCpus']);
  for (const u of (hc['Ulimits'] as Array<{ Name: string; Soft: number; Hard: number }> | null) ?? [])
    args.push('--ulimit', `${u.Name}=${u.Soft}:${u.Hard}`);
  const lists: Array<[string, string]> = [
    ['CapAdd', '--cap-add'],
    ['CapDrop', '--cap-drop'],
    ['SecurityOpt', '--security-opt'],
    ['ExtraHosts', '--add-host'],
    ['Dns', '--dns'],
    ['DnsSearch', '--dns-search'],
    ['DnsOptions', '--dns-option'],
    ['GroupAdd', '--group-add'],
  ];
  for (const [key, flag] of lists) for (const v of (hc[key] as string[] | null) ?? []) args.push(flag, v);
  for (const [k, v] of Object.entries((hc['Sysctls'] as Record<string, string> | null) ?? {}))
    args.push('--sysctl', `${k}=${v}`);
  if (hc['Privileged'] === true) args.push('--privileged');
  if (hc['ReadonlyRootfs'] === true) args.push('--read-only');
  if (hc['OomKillDisable'] === true) args.push('--oom-kill-disable');
  const log = hc['LogConfig'] as { Type?: string; Config?: Record<string, string> } | undefined;
  if (log?.Type) args.push('--log-driver', log.Type);
  for (const [k, v] of Object.entries(log?.Config ?? {})) args.push('--log-opt', `${k}=${v}`);
  return args;
}

function healthArgs(config: ContainerConfigRecord, image: ImageDefaults | null): string[] {
  const h = config.healthcheck as Healthcheck | null;
  if (!h?.Test || same(h, image?.Healthcheck)) return [];
  const [kind, ...rest] = h.Test;
  if (kind === 'NONE') return ['--no-healthcheck'];
  // The CLI has CMD-SHELL only: a CMD test runs the same words through the shell.
  const args = ['--health-cmd', kind === 'CMD' ? rest.map(shellQuote).join(' ') : (rest[0] ?? '')];
  const duration = (ns: number) =>
    ns % 1e9 === 0 ? `${ns / 1e9}s` : ns % 1e6 === 0 ? `${ns / 1e6}ms` : `${ns}ns`;
  if (h.Interval) args.push('--health-interval', duration(h.Interval));
  if (h.Timeout) args.push('--health-timeout', duration(h.Timeout));
  if (h.StartPeriod) args.push('--health-start-period', duration(h.StartPeriod));
  if (h.Retries) args.push('--health-retries', String(h.Retries));
  return args;
}

function listOf(v: string[] | string | null | undefined): string[] {
  return Array.isArray(v) ? v : v ? [v] : [];
}

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
