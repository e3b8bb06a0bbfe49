/**
 * The disk-space reserve: a file of Helm's own in the run log's folder, so that on ENOSPC Helm can free it
 * and still write one last line saying why it stopped.
 */
import { randomBytes } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const DEFAULT_RESERVE_BYTES = 64 * 1024;

/** `.run_log.md.reserve` beside `run_log.md`: one reserve per log file, so two instances never share one. */
export function reservePathOf(dir: string, fileName: string): string {
  return join(dir, `.${fileName}.reserve`);
}

/**
 * Makes sure a reserve of `bytes` exists and is on disk. Random bytes, not zeros: a compressing or
 * deduplicating file system would store zeros in no space at all.
 */
export async function ensureReserve(path: string, bytes: number): Promise<void> {
  try {
    if ((await stat(path)).size >= bytes) return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const handle = await open(path, 'w', 0o600);
  try {
    const data = randomBytes(bytes);
    let written = 0;
    while (written < bytes)
      written += (await handle.write(data, written, bytes - written, written)).bytesWritten;
    await handle.sync();
    await handle.close();
  } catch (error) {
    await handle.close().catch(() => undefined);
    // A partial reserve would only take space the log needs more.
    await unlink(path).catch(() => undefined);
    throw error;
  }
}

export async function releaseReserve(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
