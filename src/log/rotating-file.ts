/**
 * A size-rotated file for Helm's own JSON log lines (a pino destination). When the file would pass
 * `rotateBytes`, it is renamed to `<file>.<n>` (n counts up from 1, oldest first, and a name never
 * changes afterwards) and a new file is started; the rotated one is gzipped in the background to
 * `<file>.<n>.gz` (written to a temp name, synced, renamed) and only then its uncompressed copy removed.
 *
 * Rotated files are deleted only when the owner set a retention (`retentionFiles`: keep the newest N);
 * without one, Helm deletes none (the design card: no destructive filesystem operation without the
 * owner's instruction). The live file is never deleted.
 */
import { closeSync, fstatSync, openSync, readdirSync, renameSync, writeSync } from 'node:fs';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';

const gzip = promisify(gzipCallback);

export const DEFAULT_LOG_ROTATE_BYTES = 64 * 1024 * 1024;

export interface RotatingFileOptions {
  /** The live log file; its folder must exist. */
  path: string;
  /**
   * Rotate before a line would take the file past this size.
   * @defaultValue 67108864 (64 MiB)
   */
  rotateBytes?: number;
  /**
   * Keep only the newest N rotated files and delete older ones: only when the owner set it explicitly.
   * Undefined or null (the default): no file is ever deleted.
   */
  retentionFiles?: number | null;
  /** Failures of the background work (compression, retention); the stream keeps writing. */
  onError?: (error: unknown) => void;
}

export interface RotatingFileStream {
  /** One or more whole lines (pino passes one line per call). */
  write(chunk: string): boolean;
  /** Waits for background compression and retention to finish (tests, shutdown). */
  flush(): Promise<void>;
  /** Closes the live file after `flush`. Writes after close are dropped. */
  close(): Promise<void>;
}

const rotatedPattern = (base: string) =>
  new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.([1-9][0-9]{0,8})(\\.gz)?$`);

export function createRotatingFileStream(options: RotatingFileOptions): RotatingFileStream {
  const rotateBytes = options.rotateBytes ?? DEFAULT_LOG_ROTATE_BYTES;
  if (!Number.isSafeInteger(rotateBytes) || rotateBytes < 1)
    throw new TypeError('rotateBytes must be a positive integer');
  const retention = options.retentionFiles ?? null;
  if (retention !== null && (!Number.isSafeInteger(retention) || retention < 0))
    throw new TypeError('retentionFiles must be a non-negative integer, or null to keep every file');
  const path = options.path;
  const dir = dirname(path);
  const base = basename(path);
  const pattern = rotatedPattern(base);
  const onError = options.onError ?? (() => undefined);

  let fd: number | null = openSync(path, 'a', 0o640);
  let size = fstatSync(fd).size;
  // Numbers never repeat: the next one is past every rotated file there is; leftovers of a crash
  // (an uncompressed `<file>.<n>`) are compressed first.
  const { nextN: firstN, toCompress } = scanRotated(dir, pattern);
  let nextN = firstN;
  let background: Promise<void> = work().catch(onError);

  async function work(): Promise<void> {
    while (toCompress.length > 0) {
      const plain = toCompress[0]!;
      try {
        await compress(plain);
      } catch (error) {
        onError(error);
      }
      toCompress.shift();
    }
    if (retention !== null) await applyRetention(dir, pattern, retention);
  }

  function rotate(): void {
    if (fd === null) return;
    closeSync(fd);
    fd = null;
    const plain = `${path}.${nextN}`;
    nextN += 1;
    try {
      renameSync(path, plain);
      toCompress.push(plain);
    } catch (error) {
      onError(error);
    }
    fd = openSync(path, 'a', 0o640);
    size = fstatSync(fd).size;
    background = background.then(work).catch(onError);
  }

  return {
    write(chunk: string): boolean {
      if (fd === null) return false;
      const bytes = Buffer.from(chunk, 'utf8');
      if (size > 0 && size + bytes.length > rotateBytes) {
        try {
          rotate();
        } catch (error) {
          onError(error);
          if (fd === null) return false;
        }
      }
      try {
        let written = 0;
        while (written < bytes.length) written += writeSync(fd, bytes, written);
        size += bytes.length;
      } catch (error) {
        onError(error);
      }
      return true;
    },
    async flush(): Promise<void> {
      let current: Promise<void>;
      do {
        current = background;
        await current;
      } while (current !== background);
    },
    async close(): Promise<void> {
      await this.flush();
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}

function byN(pattern: RegExp): (a: string, b: string) => number {
  return (a, b) => Number(pattern.exec(a)?.[1]) - Number(pattern.exec(b)?.[1]);
}

/** The rotated files already there: the next number past all of them, and the ones left uncompressed. */
function scanRotated(dir: string, pattern: RegExp): { nextN: number; toCompress: string[] } {
  let nextN = 1;
  const toCompress: string[] = [];
  for (const name of readdirSync(dir)
    .filter((n) => pattern.test(n))
    .sort(byN(pattern))) {
    const match = pattern.exec(name);
    if (!match) continue;
    nextN = Math.max(nextN, Number(match[1]) + 1);
    if (!match[2]) toCompress.push(join(dir, name));
  }
  return { nextN, toCompress };
}

async function compress(plain: string): Promise<void> {
  const gzPath = `${plain}.gz`;
  const temp = `${gzPath}.tmp`;
  const handle = await open(temp, 'w', 0o640);
  try {
    await handle.writeFile(await gzip(await readFile(plain)));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, gzPath);
  // Helm's own uncompressed copy; its bytes are in the synced .gz.
  await unlink(plain);
}

/** Deletes rotated files older than the newest `keep` (only called when the owner set a retention). */
async function applyRetention(dir: string, pattern: RegExp, keep: number): Promise<void> {
  const rotated = (await readdir(dir))
    .filter((name) => pattern.test(name) && name.endsWith('.gz'))
    .sort(byN(pattern));
  for (const name of rotated.slice(0, Math.max(0, rotated.length - keep))) await unlink(join(dir, name));
}
