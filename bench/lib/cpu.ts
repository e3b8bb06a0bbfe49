// CPU time while a piece of the bench runs: this process (Helm + bench client + raw worker), the
// services it talks to (dockerd, containerd, the test redis-server), read from /proc (best effort:
// a process that cannot be found or read is left out), and the whole machine's busy share.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuSample {
  at: number;
  selfUs: number;
  selfSysUs: number;
  /** Clock ticks (utime + stime) per watched service. */
  ticks: Record<string, number>;
  machineBusy: number;
  machineTotal: number;
}

export interface CpuDelta {
  wallMs: number;
  /** ms of CPU in this process (user + system), and the system part of it. */
  selfMs: number;
  selfSysMs: number;
  /** ms of CPU per watched service (10 ms resolution). */
  servicesMs: Record<string, number>;
  /** Busy share of the whole machine, 0–100 (all cores). */
  machineBusyPct: number;
}

export function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

export function readTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based in proc(5)).
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return null;
  }
}

function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

/** Finds dockerd (of the socket in use), containerd and the redis-server on the bench's port. */
export function findServices(redisPort: string, dockerSocket: string): Record<string, number> {
  const found: Record<string, number> = {};
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return found;
  }
  for (const p of pids) {
    let comm: string;
    let cmd: string;
    try {
      comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      cmd = readFileSync(`/proc/${p}/cmdline`, 'utf8').replaceAll('\0', ' ');
    } catch {
      continue;
    }
    if (comm === 'redis-server' && cmd.includes(`:${redisPort}`)) found['redis'] ??= Number(p);
    else if (comm === 'dockerd' && (cmd.includes(dockerSocket) || !cmd.includes('--host')))
      found['dockerd'] ??= Number(p);
    else if (comm === 'containerd' && found['containerd'] === undefined) found['containerd'] = Number(p);
  }
  return found;
}

export class CpuMeter {
  private readonly tick = 1000 / clockTicks();
  constructor(private readonly services: Record<string, number>) {}

  get watched(): string[] {
    return Object.keys(this.services);
  }

  sample(): CpuSample {
    const u = process.cpuUsage();
    const ticks: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.services)) {
      const t = readTicks(pid);
      if (t !== null) ticks[name] = t;
    }
    const m = machineTicks();
    return {
      at: performance.now(),
      selfUs: u.user + u.system,
      selfSysUs: u.system,
      ticks,
      machineBusy: m.busy,
      machineTotal: m.total,
    };
  }

  since(a: CpuSample): CpuDelta {
    const b = this.sample();
    const servicesMs: Record<string, number> = {};
    for (const name of Object.keys(b.ticks))
      if (a.ticks[name] !== undefined) servicesMs[name] = (b.ticks[name]! - a.ticks[name]!) * this.tick;
    const total = b.machineTotal - a.machineTotal;
    return {
      wallMs: b.at - a.at,
      selfMs: (b.selfUs - a.selfUs) / 1000,
      selfSysMs: (b.selfSysUs - a.selfSysUs) / 1000,
      servicesMs,
      machineBusyPct: total > 0 ? Math.round(((b.machineBusy - a.machineBusy) / total) * 100) : Number.NaN,
    };
  }
}

export const coreCount = () => os.cpus().length;
