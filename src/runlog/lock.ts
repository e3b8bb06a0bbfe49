/**
 * One writer per run-log file: `<file>.lock`, created with O_EXCL, holding pid + host. A lock whose pid
 * is dead on this host is taken over; any other lock is refused.
 */
import { randomUUID } from 'node:crypto';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { RunLogLockedError } from './errors.js';

export interface LockHolder {
  pid: number;
  host: string;
  /** Tells our lock from a later one with the same pid. */
  nonce: string;
  since: string;
}

export interface LockLogger {
  warn(obj: object, msg?: string): void;
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

export async function acquireLock(lockPath: string, now: Date, logger?: LockLogger): Promise<LockHolder> {
  const ours: LockHolder = {
    pid: process.pid,
    host: hostname(),
    nonce: randomUUID(),
    since: now.toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      await writeFile(lockPath, `${JSON.stringify(ours)}\n`, { flag: 'wx', mode: 0o644 });
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
    if (isAlive(holder.pid)) {
      const who =
        holder.pid === process.pid ? 'this process already has it open' : `pid ${holder.pid} is running`;
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
  let text: string;
  try {
    text = await readFile(lockPath, 'utf8');
  } catch {
    return;
  }
  if (parseHolder(text)?.nonce === ours.nonce) await unlink(lockPath).catch(() => undefined);
}
