/**
 * One writer per run-log file: `<file>.lock`, created with O_EXCL, holding pid + host, the pid namespace
 * and the process's start time. A lock whose writer is dead on this host is taken over (its successor
 * continues the same file and chain); a lock whose writer still runs is refused, and a lock from another
 * host is refused.
 *
 * "Dead" is decided as precisely as this host allows. In the holder's own pid namespace: its pid is gone,
 * or now belongs to a process that started at another time (a pid reused, e.g. pid 1 of a restarted
 * container), or is this very process while the lock is not one this process took. From another pid
 * namespace (Helm in a container that was restarted, whose new namespace cannot see the old one) the pid
 * says nothing: the holder refreshes its lock's mtime every `refreshMs`, and a lock left unrefreshed for
 * 3 × `refreshMs` is dead.
 */
import { randomUUID } from 'node:crypto';
import { link, readFile, readlink, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { RunLogLockedError } from './errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** Tells our lock from a later one with the same pid. */
  nonce: string;
  since: string;
  /** `/proc/self/ns/pid` of the holder (null where unreadable; absent in locks of older versions). */
  pid_ns?: string | null;
  /** The holder's boot id and start time in clock ticks (`/proc/<pid>/stat`); null where unreadable. */
  started?: string | null;
}

/** How often a holder refreshes its lock's mtime (Helm passes its heartbeat interval). */
export const DEFAULT_LOCK_REFRESH_MS = 10_000;

/** Nonces of the locks this process holds: the one process that may have our pid and be alive is us. */
const heldHere = new Set<string>();

export interface LockLogger {
  warn(obj: object, msg?: string): void;
}

async function pidNamespace(): Promise<string | null> {
  return readlink('/proc/self/ns/pid').catch(() => null);
}

/** `<boot id>:<start time in ticks>` of a process, or null when /proc cannot say. */
async function startedOf(pid: number | 'self'): Promise<string | null> {
  try {
    const [boot, stat] = await Promise.all([
      readFile('/proc/sys/kernel/random/boot_id', 'utf8'),
      readFile(`/proc/${pid}/stat`, 'utf8'),
    ]);
    // Fields after "pid (comm) " start at field 3; the start time is field 22. comm may hold spaces or ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = fields[19];
    return ticks ? `${boot.trim()}:${ticks}` : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function parseHolder(text: string): LockHolder | null {
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (Number.isSafeInteger(v.pid) && (v.pid as number) > 0 && typeof v.host === 'string')
      return v as LockHolder;
  } catch {
    // fall through
  }
  return null;
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException).code;
}

export async function acquireLock(
  lockPath: string,
  now: Date,
  logger?: LockLogger,
  refreshMs = DEFAULT_LOCK_REFRESH_MS,
): Promise<LockHolder> {
  const ours: LockHolder = {
    pid: process.pid,
    host: hostname(),
    nonce: randomUUID(),
    since: now.toISOString(),
    pid_ns: await pidNamespace(),
    started: await startedOf('self'),
  };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await writeFile(lockPath, `${JSON.stringify(ours)}\n`, { flag: 'wx', mode: 0o644 });
      heldHere.add(ours.nonce);
      return ours;
    } catch (error) {
      if (errno(error) !== 'EEXIST') throw error;
    }
    let text: string;
    try {
      text = await readFile(lockPath, 'utf8');
    } catch (error) {
      if (errno(error) === 'ENOENT') continue; // released meanwhile
      throw error;
    }
    const holder = parseHolder(text);
    if (!holder) {
      throw new RunLogLockedError(
        `run-log lock ${lockPath} exists but is unreadable; if no Helm process uses this log, remove it`,
        lockPath,
      );
    }
    if (holder.host !== ours.host) {
      throw new RunLogLockedError(
        `run log is locked by pid ${holder.pid} on host ${holder.host} (since ${holder.since}); Helm cannot ` +
          `tell from here whether it still runs. Give this process its own file (run_log.<instance>.md)`,
        lockPath,
      );
    }
    const who = await liveHolder(lockPath, holder, ours, refreshMs);
    if (who) {
      throw new RunLogLockedError(
        `run log is locked: ${who} (since ${holder.since}). Give this process its own file (run_log.<instance>.md)`,
        lockPath,
      );
    }
    await takeOverStaleLock(lockPath, text);
    logger?.warn({ lockPath, stale: holder }, 'took over a run-log lock left by a dead process');
  }
  throw new RunLogLockedError(
    `could not take run-log lock ${lockPath}: other processes keep taking it`,
    lockPath,
  );
}

/** Why the holder (on this host) counts as alive, or null when it is dead. */
async function liveHolder(
  lockPath: string,
  holder: LockHolder,
  ours: LockHolder,
  refreshMs: number,
): Promise<string | null> {
  if (heldHere.has(holder.nonce)) return 'this process already has it open';
  const sameNamespace =
    holder.pid_ns === undefined || (holder.pid_ns !== null && holder.pid_ns === ours.pid_ns);
  if (sameNamespace) {
    // Our own pid on a lock we did not take: the process that wrote it is gone (its pid is ours now).
    if (holder.pid === process.pid || !isAlive(holder.pid)) return null;
    const started = holder.started ? await startedOf(holder.pid) : null;
    if (started && started !== holder.started) return null;
    return `pid ${holder.pid} is running`;
  }
  return (await refreshedWithin(lockPath, 3 * refreshMs))
    ? `its writer (pid ${holder.pid} in another pid namespace) keeps refreshing it`
    : null;
}

/** True when the lock's mtime moved, or is younger than `staleMs`, until it would have gone stale. */
async function refreshedWithin(lockPath: string, staleMs: number): Promise<boolean> {
  const first = (await stat(lockPath)).mtimeMs;
  const until = first + staleMs;
  while (Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(until - Date.now(), staleMs / 4) + 1));
    const now = await stat(lockPath).catch(() => null);
    if (!now || now.mtimeMs !== first) return true;
  }
  return false;
}

/**
 * Refreshes the lock's mtime every `refreshMs` while it is still ours, so a successor in another pid
 * namespace can tell a live holder from a dead one. Returns the function that stops it.
 */
export function keepLockFresh(
  lockPath: string,
  ours: LockHolder,
  refreshMs = DEFAULT_LOCK_REFRESH_MS,
): () => void {
  const timer = setInterval(() => {
    void (async () => {
      const text = await readFile(lockPath, 'utf8').catch(() => '');
      if (parseHolder(text)?.nonce !== ours.nonce) return;
      const at = new Date();
      await utimes(lockPath, at, at).catch(() => undefined);
    })();
  }, refreshMs);
  timer.unref();
  return () => clearInterval(timer);
}

// Move the stale lock aside by rename (atomic: of two racers only one gets it), then make sure what we
// moved is still the stale lock and not a fresh one a racer wrote in between; if it is fresh, put it back.
async function takeOverStaleLock(lockPath: string, staleText: string): Promise<void> {
  const aside = `${lockPath}.stale-${randomUUID()}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if (errno(error) === 'ENOENT') return;
    throw error;
  }
  const moved = await readFile(aside, 'utf8');
  if (moved !== staleText) {
    await link(aside, lockPath).catch(() => undefined);
    await unlink(aside);
    throw new RunLogLockedError(`another process took run-log lock ${lockPath} at the same time`, lockPath);
  }
  await unlink(aside);
}

/** Removes the lock if it is still ours. */
export async function releaseLock(lockPath: string, ours: LockHolder): Promise<void> {
  heldHere.delete(ours.nonce);
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch {
    return;
  }
  if (parseHolder(text)?.nonce === ours.nonce) await unlink(lockPath).catch(() => undefined);
}
