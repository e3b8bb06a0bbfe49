import type { ContainerCreateOptions, ContainerInspect, HostConfig } from './docker-objects.js';

/** The privileges a new container may not gain over the one it replaces (pure; DockerOps.createContainer). */

export type PrivilegeKind =
  | 'privileged'
  | 'cap_add'
  | 'pid_mode'
  | 'ipc_mode'
  | 'userns_mode'
  | 'devices'
  | 'bind_mount'
  | 'security_opt';

export interface PrivilegeProblem {
  kind: PrivilegeKind;
  detail: string;
}

/**
 * What `options` asks for beyond `allowedFrom` (pure). Each privilege is allowed only when the
 * container being replaced had exactly that one: the same capability, the same namespace mode, the
 * same device, a bind of the same host path to the same place (read-only may replace read-write,
 * not the reverse).
 */
export function privilegeProblems(
  options: ContainerCreateOptions,
  allowedFrom: ContainerInspect | null,
): PrivilegeProblem[] {
  const hc: HostConfig = options.HostConfig ?? {};
  const prev: HostConfig = allowedFrom?.HostConfig ?? {};
  const problems: PrivilegeProblem[] = [];

  if (hc.Privileged === true && prev.Privileged !== true)
    problems.push({ kind: 'privileged', detail: 'Privileged mode' });

  const prevCaps = new Set(asStrings(prev.CapAdd).map(normaliseCap));
  for (const cap of asStrings(hc.CapAdd).map(normaliseCap)) {
    if (!prevCaps.has(cap)) problems.push({ kind: 'cap_add', detail: `added capability ${cap}` });
  }

  const namespace = (
    kind: PrivilegeKind,
    label: string,
    mode: string | undefined,
    prevMode: string | undefined,
    harmless: string[],
  ) => {
    const m = mode ?? '';
    if (harmless.includes(m) || m === (prevMode ?? '')) return;
    problems.push({ kind, detail: `${label} namespace mode "${m}"` });
  };
  namespace('pid_mode', 'PID', hc.PidMode, prev.PidMode, ['', 'private']);
  namespace('ipc_mode', 'IPC', hc.IpcMode, prev.IpcMode, ['', 'private', 'shareable', 'none']);
  namespace('userns_mode', 'user', hc.UsernsMode, prev.UsernsMode, ['']);

  const prevDevices = new Set(asObjects(prev.Devices).map(deviceKey));
  for (const d of asObjects(hc.Devices)) {
    if (!prevDevices.has(deviceKey(d)))
      problems.push({ kind: 'devices', detail: `device ${String(d['PathOnHost'] ?? '?')}` });
  }
  const prevRules = new Set(prev.DeviceCgroupRules ?? []);
  for (const rule of hc.DeviceCgroupRules ?? []) {
    if (!prevRules.has(rule)) problems.push({ kind: 'devices', detail: `device cgroup rule "${rule}"` });
  }
  const prevRequests = new Set((prev.DeviceRequests ?? []).map((r) => JSON.stringify(r)));
  for (const r of hc.DeviceRequests ?? []) {
    if (!prevRequests.has(JSON.stringify(r)))
      problems.push({ kind: 'devices', detail: `device request (driver ${r.Driver ?? 'default'})` });
  }

  const prevBinds = (allowedFrom?.Mounts ?? [])
    .filter((m) => m.Type === 'bind')
    .map((m) => ({ source: normalisePath(m.Source), target: normalisePath(m.Destination), readOnly: !m.RW }));
  for (const b of requestedBinds(hc)) {
    const ok = prevBinds.some(
      (p) => p.source === b.source && p.target === b.target && (b.readOnly || !p.readOnly),
    );
    if (!ok)
      problems.push({
        kind: 'bind_mount',
        detail: `bind mount of host path ${b.source} at ${b.target}${b.readOnly ? ' (read-only)' : ''}`,
      });
  }

  const prevOpts = new Set(asStrings(prev.SecurityOpt));
  for (const opt of asStrings(hc.SecurityOpt)) {
    // no-new-privileges only ever takes privileges away.
    if (/^no-new-privileges([:=]true)?$/.test(opt)) continue;
    if (!prevOpts.has(opt)) problems.push({ kind: 'security_opt', detail: `security option "${opt}"` });
  }
  return problems;
}

interface RequestedBind {
  source: string;
  target: string;
  readOnly: boolean;
}

function requestedBinds(hc: HostConfig): RequestedBind[] {
  const out: RequestedBind[] = [];
  for (const spec of hc.Binds ?? []) {
    // "source:target[:options]"; a source that is not an absolute path names a volume.
    const [source = '', target = '', opts = ''] = spec.split(':');
    if (!source.startsWith('/')) continue;
    out.push({
      source: normalisePath(source),
      target: normalisePath(target),
      readOnly: /(^|,)ro(,|$)/.test(opts),
    });
  }
  for (const m of hc.Mounts ?? []) {
    if (m.Type === 'bind') {
      out.push({
        source: normalisePath(m.Source),
        target: normalisePath(m.Target),
        readOnly: m.ReadOnly === true,
      });
      continue;
    }
    // A local-driver volume declared inline with a device option is a bind mount by another name.
    const driverOpts = m.VolumeOptions?.DriverConfig?.Options ?? {};
    if (
      m.Type === 'volume' &&
      (driverOpts['device'] !== undefined || /(^|,)bind(,|$)/.test(driverOpts['o'] ?? ''))
    ) {
      out.push({
        source: normalisePath(driverOpts['device'] ?? m.Source),
        target: normalisePath(m.Target),
        readOnly: m.ReadOnly === true,
      });
    }
  }
  return out;
}

function asStrings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

function asObjects(v: unknown): Array<Record<string, unknown>> {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => !!x && typeof x === 'object') : [];
}

function normaliseCap(cap: string): string {
  const c = cap.toUpperCase();
  return c.startsWith('CAP_') ? c.slice(4) : c;
}

function deviceKey(d: Record<string, unknown>): string {
  const host = String(d['PathOnHost'] ?? '');
  const inContainer = String(d['PathInContainer'] || host);
  return `${host}\u0000${inContainer}\u0000${String(d['CgroupPermissions'] || 'rwm')}`;
}

function normalisePath(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}
