/**
 * The run-log writer: the only code here that writes the log. One process per file (lock), every line on
 * disk before its caller hears "logged" (group commit: all appends that arrive during a write+sync share
 * the next one), and fail closed: when the disk says no, appends reject and the log reports unhealthy
 * until a later append gets a line to disk again.
 *
 * long-file: over 400 lines on purpose: FileRunLog is one state machine over one open file. Group commit,
 * rotation, the fail-closed health and the disk-full reserve all read and change the same state (the
 * handle, its synced size, the chain position, the pending batch, the health); split across files, that
 * state would have to be passed around and the order of its changes could no longer be read in one place.
 */
import { type FileHandle, mkdir, open, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { type ChainPosition, deriveRunLogKeys, type RunLogKeys, sealEntries, signHead } from './chain.js';
import { draftFromInput, type RunLogDraft, type RunLogEntry, type RunLogEntryInput } from './entry.js';
import {
  errnoOf,
  RunLogIntegrityError,
  RunLogLockedError,
  RunLogUnavailableError,
  toUnavailable,
} from './errors.js';
import { writeHeadRecord } from './head-file.js';
import { formatEntryLine } from './line-format.js';
import { acquireLock, keepLockFresh, type LockHolder, releaseLock } from './lock.js';
import { DEFAULT_RESERVE_BYTES, ensureReserve, releaseReserve, reservePathOf } from './reserve.js';
import { createContinuation, type FileIdentity, type OpenedFile, openOrCreate } from './log-file.js';
import { compressRotated, switchLiveFile } from './rotation.js';

export interface RunLogStatus {
  healthy: boolean;
  /** When the current state began (open, failure, or recovery). */
  since: string;
  /** Why the log is unhealthy, in plain words; null while healthy. */
  reason: string | null;
}

/** The part of a pino logger the run log uses. */
export interface RunLogLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RunLogOptions {
  /** The folder of the log (Helm's memory dir); created if missing. */
  dir: string;
  /**
   * One file per writing process: a second Helm process on the same host passes `run_log.<instance>.md`.
   * Must match `run_log[.<instance>].md` so that `mergeRunLogs` finds it.
   * @defaultValue 'run_log.md'
   */
  fileName?: string;
  /** The run-log key (Helm derives it from its own secret); at least 16 bytes. */
  key: Buffer;
  /** Source of entry times. */
  clock: { now(): Date };
  logger?: RunLogLogger;
  /** Called after each fdatasync of the log with the number of entries it made durable (metrics, tests). */
  onSync?: (entries: number) => void;
  /**
   * Size of the disk-space reserve kept beside the log and freed on ENOSPC to write a last `disk_full` line.
   * @defaultValue 65536
   */
  reserveBytes?: number;
  /**
   * Once the live file holds at least this many bytes, between two batches it is closed and continued in a
   * new one; the old one becomes `<file>.<n>.gz` (n = 1, 2, … oldest first; never renamed or deleted).
   * 0 turns rotation off.
   * @defaultValue 67108864 (64 MiB)
   */
  rotateBytes?: number;
  /**
   * How often the lock's mtime is refreshed, so that a successor in another pid namespace can tell this
   * process alive from dead (3 × this without a refresh: dead). Helm passes its heartbeat interval.
   * @defaultValue 10000
   */
  lockRefreshMs?: number;
  /** Called after each rotation with the rotated file's name (`run_log.md.3`, compressed later to `.gz`). */
  onRotate?: (rotatedPath: string) => void;
}

export interface RunLog {
  /** Absolute or dir-relative path of the log file. */
  readonly path: string;
  /** Resolves once the entry is on disk; rejects with RunLogUnavailableError when it could not be made durable. */
  append(entry: RunLogEntryInput): Promise<RunLogEntry>;
  /** Appends several entries in one write+sync, all or none. */
  appendMany(entries: readonly RunLogEntryInput[]): Promise<RunLogEntry[]>;
  status(): RunLogStatus;
  /**
   * Calls `listener` each time the log turns unhealthy or healthy again (transitions only), so Helm can
   * alert. Returns a function that removes the listener.
   */
  onHealthChange(listener: (status: RunLogStatus) => void): () => void;
  /** Waits for pending appends, then releases the file. Appends after close reject (`ECLOSED`). */
  close(): Promise<void>;
}

export const DEFAULT_RUN_LOG_FILE = 'run_log.md';
export const DEFAULT_ROTATE_BYTES = 64 * 1024 * 1024;
const FILE_NAME_PATTERN = /^run_log(\.[A-Za-z0-9_+.-]{1,200})?\.md$/;

const silentLogger: RunLogLogger = { info() {}, warn() {}, error() {} };

export async function openRunLog(options: RunLogOptions): Promise<RunLog> {
  const keys = deriveRunLogKeys(options.key);
  const fileName = options.fileName ?? DEFAULT_RUN_LOG_FILE;
  if (!FILE_NAME_PATTERN.test(fileName)) {
    throw new TypeError(
      `run-log file name must look like run_log.md or run_log.<instance>.md, got ${fileName}`,
    );
  }
  if (typeof options.clock?.now !== 'function') throw new TypeError('run log needs a clock with now()');
  const reserveBytes = options.reserveBytes ?? DEFAULT_RESERVE_BYTES;
  if (!Number.isSafeInteger(reserveBytes) || reserveBytes < 1)
    throw new TypeError('reserveBytes must be a positive integer');
  const rotateBytes = options.rotateBytes ?? DEFAULT_ROTATE_BYTES;
  if (!Number.isSafeInteger(rotateBytes) || rotateBytes < 0)
    throw new TypeError('rotateBytes must be a non-negative integer (0: never rotate)');
  const logger = options.logger ?? silentLogger;

  const path = join(options.dir, fileName);
  const lockPath = `${path}.lock`;
  let lock: LockHolder;
  try {
    await mkdir(options.dir, { recursive: true });
    lock = await acquireLock(lockPath, options.clock.now(), logger, options.lockRefreshMs);
  } catch (error) {
    throw error instanceof RunLogLockedError ? error : toUnavailable(error, path);
  }
  const stopLockRefresh = keepLockFresh(lockPath, lock, options.lockRefreshMs);
  try {
    const file = await openOrCreate(path, options.key, keys, options.dir);
    const reservePath = reservePathOf(options.dir, fileName);
    let reserveHeld = false;
    try {
      await ensureReserve(reservePath, reserveBytes);
      reserveHeld = true;
    } catch (error) {
      logger.warn(
        { err: error, reservePath },
        'could not create the run-log disk reserve; a full disk will stop the log without a last line',
      );
    }
    return new FileRunLog({
      options,
      logger,
      keys,
      path,
      lockPath,
      lock,
      stopLockRefresh,
      file,
      reservePath,
      reserveBytes,
      reserveHeld,
      rotateBytes,
    });
  } catch (error) {
    stopLockRefresh();
    await releaseLock(lockPath, lock);
    throw error instanceof RunLogIntegrityError ? error : toUnavailable(error, path);
  }
}

interface Pending {
  drafts: RunLogDraft[];
  resolve(entries: RunLogEntry[]): void;
  reject(error: Error): void;
}

interface FileRunLogParts {
  options: RunLogOptions;
  logger: RunLogLogger;
  keys: RunLogKeys;
  path: string;
  lockPath: string;
  lock: LockHolder;
  stopLockRefresh: () => void;
  file: OpenedFile;
  reservePath: string;
  reserveBytes: number;
  reserveHeld: boolean;
  rotateBytes: number;
}

class FileRunLog implements RunLog {
  readonly path: string;
  private readonly parts: FileRunLogParts;
  private identity: FileIdentity;
  private readonly chainId: string;
  /** The seq the live file's first entry has (or will have). */
  private fileFirstSeq: number;
  /** The n of the next rotated file. */
  private nextRotatedN: number;
  /** No rotation is tried before the file reaches this size again (after a failed one). */
  private rotateRetryAt: number;
  /** Rotated files still to compress, oldest first, and the one compression at work (in the background). */
  private readonly toCompress: string[];
  private compressing: Promise<void> | null = null;
  private handle: FileHandle | null;
  /** Bytes of the file that are synced and ours. */
  private size: number;
  private position: ChainPosition;
  private headBehind = false;
  private headInFlight: Promise<void> | null = null;
  /** A write may have left bytes past `size` that no sync confirmed; they are cut before the next write. */
  private tailDirty = false;
  private reserveHeld: boolean;
  /** Set once the reserve was spent on the `disk_full` line; cleared when a new reserve fits on the disk. */
  private diskFull = false;
  private pending: Pending[] = [];
  private flushing: Promise<void> | null = null;
  private closing: Promise<void> | null = null;
  private health: RunLogStatus;
  private readonly listeners = new Set<(status: RunLogStatus) => void>();

  constructor(parts: FileRunLogParts) {
    this.parts = parts;
    this.path = parts.path;
    this.handle = parts.file.handle;
    this.identity = parts.file.identity;
    this.chainId = parts.file.chainId;
    this.size = parts.file.size;
    this.position = parts.file.position;
    this.fileFirstSeq = parts.file.firstSeq;
    this.nextRotatedN = parts.file.rotation.nextN;
    this.rotateRetryAt = parts.rotateBytes;
    this.toCompress = [...parts.file.rotation.uncompressed];
    this.reserveHeld = parts.reserveHeld;
    this.health = { healthy: true, since: this.now().toISOString(), reason: null };
    this.compressInBackground();
  }

  append(entry: RunLogEntryInput): Promise<RunLogEntry> {
    return this.appendMany([entry]).then((entries) => entries[0]!);
  }

  appendMany(entries: readonly RunLogEntryInput[]): Promise<RunLogEntry[]> {
    if (this.closing)
      return Promise.reject(new RunLogUnavailableError(`run log ${this.path} is closed`, 'ECLOSED'));
    let drafts: RunLogDraft[];
    try {
      drafts = entries.map((entry) => draftFromInput(entry, () => this.now()));
    } catch (error) {
      return Promise.reject(error);
    }
    if (drafts.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) => {
      this.pending.push({ drafts, resolve, reject });
      this.kick();
    });
  }

  status(): RunLogStatus {
    return { ...this.health };
  }

  onHealthChange(listener: (status: RunLogStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.flushing) await this.flushing;
      while (this.headInFlight) await this.headInFlight;
      await this.updateHead();
      while (this.compressing) await this.compressing;
      await this.dropHandle();
      this.parts.stopLockRefresh();
      await releaseLock(this.parts.lockPath, this.parts.lock);
    })();
    return this.closing;
  }

  private now(): Date {
    return this.parts.options.clock.now();
  }

  // Group commit: one writer loop; whatever queued up while it was writing goes into its next write+sync.
  private kick(): void {
    if (this.flushing) return;
    this.flushing = (async () => {
      try {
        while (this.pending.length > 0) {
          await this.commit(this.pending.splice(0));
          // Between batches: appends that arrive meanwhile wait in `pending` and go to the new file.
          if (this.rotationDue()) await this.rotate();
        }
      } finally {
        this.flushing = null;
      }
    })();
  }

  private async commit(batch: Pending[]): Promise<void> {
    const drafts = batch.flatMap((p) => p.drafts);
    let sealed: RunLogEntry[];
    try {
      if (this.diskFull) await this.refillReserve();
      sealed = await this.writeDurably(drafts);
    } catch (error) {
      const failure = toUnavailable(error, this.path);
      // The state must read unhealthy before any caller hears of the failure.
      await this.onWriteFailure(failure, drafts.length);
      for (const p of batch) p.reject(failure);
      return;
    }
    this.markHealthy();
    let from = 0;
    for (const p of batch) {
      p.resolve(sealed.slice(from, from + p.drafts.length));
      from += p.drafts.length;
    }
    // After the callers hear back (their lines are synced), and beside the next batch rather than in
    // front of it: a crash in between leaves the head a batch or two behind, which verification accepts.
    this.scheduleHead();
  }

  private rotationDue(): boolean {
    const limit = this.parts.rotateBytes;
    return (
      limit > 0 &&
      this.size >= Math.max(limit, this.rotateRetryAt) &&
      this.health.healthy &&
      !this.diskFull &&
      this.position.seq >= this.fileFirstSeq
    );
  }

  /**
   * Closes the live file (head record final) and continues the chain in a new one (rotation.ts has the
   * steps). A failure before the switch leaves the live file as it was, to be tried again once it grew by
   * another eighth of the limit; the log stays writable either way.
   */
  private async rotate(): Promise<void> {
    while (this.headInFlight) await this.headInFlight;
    await this.updateHead();
    const n = this.nextRotatedN;
    let next: Awaited<ReturnType<typeof createContinuation>> | null = null;
    let rotatedPath: string;
    try {
      if (this.headBehind) throw new Error('the head record could not be brought up to date');
      next = await createContinuation(this.path, this.chainId, this.position);
      rotatedPath = await switchLiveFile(this.parts.options.dir, this.path, next.newPath, n);
    } catch (error) {
      await next?.handle.close().catch(() => undefined);
      this.rotateRetryAt = this.size + Math.max(1, Math.floor(this.parts.rotateBytes / 8));
      this.parts.logger.warn(
        { err: error, path: this.path },
        'run-log rotation failed; the log goes on in the same file and rotation is tried again later',
      );
      return;
    }
    // The switch is done: the live name holds the new file. Its start is the old file's end, so the head
    // record (pinning that end) is already right for it.
    await this.dropHandle();
    this.handle = next.handle;
    this.identity = next.identity;
    this.size = next.size;
    this.tailDirty = false;
    this.fileFirstSeq = next.firstSeq;
    this.nextRotatedN = n + 1;
    this.rotateRetryAt = this.parts.rotateBytes;
    this.parts.logger.info(
      { path: this.path, rotated: rotatedPath, lastSeq: this.position.seq },
      'run log rotated',
    );
    this.parts.options.onRotate?.(rotatedPath);
    this.toCompress.push(rotatedPath);
    this.compressInBackground();
  }

  /** Compresses rotated files one at a time, beside the writes; an uncompressed one stays until it works. */
  private compressInBackground(): void {
    if (this.compressing || this.toCompress.length === 0) return;
    this.compressing = (async () => {
      try {
        while (this.toCompress.length > 0) {
          const plainPath = this.toCompress[0]!;
          try {
            await compressRotated(this.parts.options.dir, plainPath);
          } catch (error) {
            this.parts.logger.warn(
              { err: error, path: plainPath },
              'could not compress a rotated run-log file; it stays uncompressed, and Helm tries again at the next rotation',
            );
            return;
          }
          this.toCompress.shift();
        }
      } finally {
        this.compressing = null;
      }
    })();
  }

  /** One head update at a time, always for the newest synced position; never delays a write. */
  private scheduleHead(): void {
    if (this.headInFlight) return;
    this.headInFlight = (async () => {
      try {
        while (this.headBehind) {
          const before = this.position;
          await this.updateHead();
          // A failed write leaves headBehind set: try again after the next batch, not in a loop.
          if (this.position === before) break;
        }
      } finally {
        this.headInFlight = null;
      }
    })();
  }

  /** Seals, writes and fdatasyncs the drafts as lines; the chain advances only once they are on disk. */
  private async writeDurably(drafts: readonly RunLogDraft[]): Promise<RunLogEntry[]> {
    const handle = await this.ensureHandle();
    const entries = sealEntries(this.parts.keys, this.position, drafts);
    const bytes = Buffer.from(entries.map((e) => `${formatEntryLine(e)}\n`).join(''), 'utf8');
    this.tailDirty = true;
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await handle.write(
        bytes,
        written,
        bytes.length - written,
        this.size + written,
      );
      if (bytesWritten === 0)
        throw new RunLogUnavailableError(`run log ${this.path}: the write made no progress`, 'EIO');
      written += bytesWritten;
    }
    await handle.datasync();
    this.size += bytes.length;
    this.tailDirty = false;
    this.position = { seq: entries[entries.length - 1]!.seq, mac: entries[entries.length - 1]!.mac };
    this.headBehind = true;
    this.parts.options.onSync?.(entries.length);
    return entries;
  }

  /**
   * The open handle if the path still names our file; otherwise reopens it. Reopening after a failure also
   * matters for EIO: Linux may drop the failed pages and report the next fsync on the same fd as clean.
   */
  private async ensureHandle(): Promise<FileHandle> {
    if (this.handle) {
      const info = await stat(this.path, { bigint: true });
      if (info.isDirectory())
        throw new RunLogUnavailableError(`run log ${this.path} is now a directory`, 'EISDIR');
      if (info.dev !== this.identity.dev || info.ino !== this.identity.ino) throw this.movedError();
      return this.handle;
    }
    const handle = await open(this.path, 'r+');
    try {
      const info = await handle.stat({ bigint: true });
      if (info.dev !== this.identity.dev || info.ino !== this.identity.ino) throw this.movedError();
      const size = Number(info.size);
      if (size !== this.size) {
        // Only bytes we wrote ourselves and never synced may be cut; anything else is evidence.
        if (!(this.tailDirty && size > this.size)) {
          throw new RunLogUnavailableError(
            `run log ${this.path} changed on disk while Helm held its lock (${size} bytes where ${this.size} were expected); Helm will not write to it again`,
            'ECHANGED',
          );
        }
        await handle.truncate(this.size);
      }
      this.tailDirty = false;
      this.handle = handle;
      return handle;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  private movedError(): RunLogUnavailableError {
    return new RunLogUnavailableError(
      `run log ${this.path} is no longer the file Helm opened (it was moved or replaced)`,
      'EMOVED',
    );
  }

  private async dropHandle(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
  }

  private async onWriteFailure(failure: RunLogUnavailableError, refused: number): Promise<void> {
    await this.dropHandle();
    this.parts.logger.error(
      { err: failure, code: failure.code, refused },
      'run-log write failed; the entries were not logged',
    );
    if (failure.code === 'ENOSPC' && this.reserveHeld) {
      await this.stopForFullDisk(refused);
      return;
    }
    this.markUnhealthy(failure.message);
  }

  /** Frees the reserve (Helm's own file) to write one last line saying why the log stops. */
  private async stopForFullDisk(refused: number): Promise<void> {
    this.diskFull = true;
    try {
      await releaseReserve(this.parts.reservePath);
      this.reserveHeld = false;
    } catch (error) {
      this.markUnhealthy(
        `the disk holding ${this.path} is full and the reserve could not be freed (${errnoOf(error)})`,
      );
      return;
    }
    const owner = 'freeing space on that disk is the owner’s job; Helm deletes nothing else';
    const draft = draftFromInput(
      {
        event: 'disk_full',
        code: 'ENOSPC',
        message:
          `The disk holding this run log is full. Helm freed its own ${this.parts.reserveBytes}-byte reserve to write this line ` +
          `and stops writing the run log: ${refused} pending entr${refused === 1 ? 'y was' : 'ies were'} refused, and so will ` +
          `every mutating action be until space is freed; ${owner}.`,
      },
      () => this.now(),
    );
    try {
      const [entry] = await this.writeDurably([draft]);
      await this.updateHead();
      this.markUnhealthy(
        `disk full (ENOSPC): Helm wrote a last disk_full entry (#${entry!.seq}) with its reserve and stopped writing the run log; ${owner}`,
      );
    } catch (error) {
      await this.dropHandle();
      this.markUnhealthy(
        `disk full (ENOSPC), and even the last disk_full entry could not be written (${errnoOf(error) ?? error}); ${owner}`,
      );
    }
  }

  /**
   * After a full disk the log resumes only once the reserve is back and as much again is free: otherwise
   * the new reserve would take exactly the space the disk_full line left, and the next full disk would
   * come with no reserve at all.
   */
  private async refillReserve(): Promise<void> {
    try {
      const fs = await statfs(this.parts.options.dir);
      const free = fs.bavail * fs.bsize;
      if (free < 2 * this.parts.reserveBytes) {
        throw Object.assign(new Error(`only ${free} bytes free`), { code: 'ENOSPC' });
      }
      await ensureReserve(this.parts.reservePath, this.parts.reserveBytes);
    } catch (error) {
      throw new RunLogUnavailableError(
        `the disk holding ${this.path} is still full (${errnoOf(error) ?? 'unknown'}): Helm stopped writing the run log ` +
          'after its disk_full entry; freeing space on that disk is the owner’s job',
        errnoOf(error) ?? 'ENOSPC',
        { cause: error },
      );
    }
    this.reserveHeld = true;
    this.diskFull = false;
    this.parts.logger.info({ path: this.path }, 'disk space is back: run-log reserve restored');
  }

  private async updateHead(): Promise<void> {
    if (!this.headBehind) return;
    const position = this.position;
    try {
      await writeHeadRecord(this.path, signHead(this.parts.keys, this.chainId, position));
      // Lines synced while the head was being written leave it behind again.
      if (this.position === position) this.headBehind = false;
    } catch (error) {
      // The lines are on disk; a head behind them still verifies, so warn and retry after the next write.
      this.parts.logger.warn({ err: error, path: this.path }, 'could not update the run-log head record');
    }
  }

  private markUnhealthy(reason: string): void {
    if (!this.health.healthy) {
      this.health = { ...this.health, reason };
      return;
    }
    this.health = { healthy: false, since: this.now().toISOString(), reason };
    this.parts.logger.error(
      { path: this.path, reason },
      'run log unavailable: mutating actions must be refused',
    );
    this.notify();
  }

  private markHealthy(): void {
    if (this.health.healthy) return;
    const was = this.health;
    this.health = { healthy: true, since: this.now().toISOString(), reason: null };
    this.parts.logger.info({ path: this.path, unhealthySince: was.since }, 'run log writable again');
    this.notify();
  }

  private notify(): void {
    for (const listener of this.listeners) {
      try {
        listener(this.status());
      } catch (error) {
        this.parts.logger.warn({ err: error }, 'a run-log health listener threw');
      }
    }
  }
}
