/**
 * Rotated run-log files. When the live file `run_log.md` grows past its size limit, the writer closes it
 * and starts a new one that continues the same chain; the old one becomes `run_log.md.<n>.gz`, where n
 * counts up from 1 (oldest) and a name, once written, never changes: nothing is shifted or renumbered,
 * and Helm never deletes a run-log file.
 *
 * The switch, in an order where every crash leaves something `recoverRotation` can finish or undo:
 *   1. `run_log.md.new` ← the continuation header, synced (a file of Helm's own, with no entries);
 *   2. `run_log.md.<n>` ← a hard link to the live file (the same inode: nothing copied, nothing lost);
 *   3. rename `run_log.md.new` → `run_log.md`, directory synced: the live name now holds the new file;
 *   4. `run_log.md.<n>.gz` ← gzip of `run_log.md.<n>`, written to a temp name, synced, renamed, synced,
 *      read back and compared byte for byte; only then the uncompressed `run_log.md.<n>` is unlinked.
 * Until step 4 ends, readers find the rotated file uncompressed (`run_log.md.<n>`).
 */
import { promisify } from 'node:util';
import { gunzip as gunzipCallback, gzip as gzipCallback } from 'node:zlib';
import { link, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { writeSyncRename } from '../base/durable-write.js';
import { join } from 'node:path';
import { errnoOf } from './errors.js';

const gzip = promisify(gzipCallback);
const gunzip = promisify(gunzipCallback);

/** A live run-log file name: `run_log.md` or `run_log.<instance>.md`. */
export const LIVE_FILE_PATTERN = /^run_log(\.[A-Za-z0-9_+.-]{1,200})?\.md$/;
/** A rotated one: `<live>.<n>.gz`, or `<live>.<n>` while it is being compressed. */
const ROTATED_FILE_PATTERN = /^(run_log(?:\.[A-Za-z0-9_+.-]{1,200})?\.md)\.([1-9][0-9]{0,8})(\.gz)?$/;

export function rotatedFileName(liveName: string, n: number, compressed = true): string {
  return `${liveName}.${n}${compressed ? '.gz' : ''}`;
}

/** One rotated file of a chain. */
export interface RotatedSegment {
  n: number;
  /** File name within the folder: the `.gz` when there is one, otherwise the uncompressed copy. */
  name: string;
  path: string;
  compressed: boolean;
  /** True when the uncompressed `<live>.<n>` exists as well (compression unfinished). */
  plainToo: boolean;
}

/** The files of one chain in a folder: its rotated files by n (gaps included as they are), then the live file. */
export interface RunLogChainFiles {
  liveName: string;
  /** Null when the live file does not exist. */
  livePath: string | null;
  rotated: RotatedSegment[];
}

/** Every chain in `dir`, by live file name; a chain with rotated files but no live file is listed too. */
export async function listRunLogChains(dir: string): Promise<RunLogChainFiles[]> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  const chains = new Map<string, RunLogChainFiles>();
  const chainOf = (liveName: string) => {
    let chain = chains.get(liveName);
    if (!chain) {
      chain = { liveName, livePath: null, rotated: [] };
      chains.set(liveName, chain);
    }
    return chain;
  };
  const rotated = new Map<string, Map<number, { gz: boolean; plain: boolean }>>();
  for (const name of names) {
    if (LIVE_FILE_PATTERN.test(name)) {
      chainOf(name).livePath = join(dir, name);
      continue;
    }
    const match = ROTATED_FILE_PATTERN.exec(name);
    if (!match) continue;
    const liveName = match[1]!;
    chainOf(liveName);
    const byN = rotated.get(liveName) ?? new Map();
    rotated.set(liveName, byN);
    const n = Number(match[2]);
    const seen = byN.get(n) ?? { gz: false, plain: false };
    if (match[3]) seen.gz = true;
    else seen.plain = true;
    byN.set(n, seen);
  }
  for (const [liveName, byN] of rotated) {
    const chain = chainOf(liveName);
    for (const [n, seen] of [...byN].sort((a, b) => a[0] - b[0])) {
      const name = rotatedFileName(liveName, n, seen.gz);
      chain.rotated.push({
        n,
        name,
        path: join(dir, name),
        compressed: seen.gz,
        plainToo: seen.gz && seen.plain,
      });
    }
  }
  return [...chains.values()].sort((a, b) =>
    a.liveName < b.liveName ? -1 : a.liveName > b.liveName ? 1 : 0,
  );
}

/** The text of a rotated file, decompressed. If the uncompressed copy vanishes while read, the `.gz` is read. */
export async function readSegmentText(segment: Pick<RotatedSegment, 'path' | 'compressed'>): Promise<string> {
  if (segment.compressed) return (await gunzip(await readFile(segment.path))).toString('utf8');
  try {
    return await readFile(segment.path, 'utf8');
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw error;
    return (await gunzip(await readFile(`${segment.path}.gz`))).toString('utf8');
  }
}

export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Step 4: `plainPath` (`<live>.<n>`) → `<plainPath>.gz`, synced, then the uncompressed copy is unlinked
 * once the `.gz` reads back to exactly its bytes. An existing `.gz` (a crash after its rename) is checked
 * the same way, never overwritten: if it differs, both stay and the error says so.
 */
export async function compressRotated(dir: string, plainPath: string): Promise<void> {
  const gzPath = `${plainPath}.gz`;
  const plain = await readFile(plainPath);
  let existing: Buffer | null = null;
  try {
    existing = await readFile(gzPath);
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw error;
  }
  if (existing === null) {
    await writeSyncRename(gzPath, await gzip(plain), { temp: `${gzPath}.tmp`, mode: 0o644 });
    await syncDirectory(dir);
    existing = await readFile(gzPath);
  }
  const roundTrip = await gunzip(existing).catch(() => null);
  if (roundTrip === null || !roundTrip.equals(plain)) {
    throw new Error(
      `${gzPath} does not hold the same bytes as ${plainPath}; both are kept for the owner to look at`,
    );
  }
  // Helm's own temporary, uncompressed copy: its bytes are in the synced .gz.
  await unlink(plainPath);
  await syncDirectory(dir);
}

export interface RecoveredRotation {
  /** The n the next rotation uses. */
  nextN: number;
  /** The newest rotated file, if any. */
  newest: RotatedSegment | null;
  /** Uncompressed rotated copies left to compress (a crash or a failure during step 4). */
  uncompressed: string[];
}

/**
 * At open, under the lock: undoes a rotation cut off before its switch (a hard link `<live>.<n>` to the
 * live file itself is removed: that name only, the bytes stay the live file's) and lists uncompressed
 * rotated copies whose compression is to be finished.
 */
export async function recoverRotation(dir: string, liveName: string): Promise<RecoveredRotation> {
  const livePath = join(dir, liveName);
  let liveIno: bigint | null = null;
  try {
    liveIno = (await stat(livePath, { bigint: true })).ino;
  } catch (error) {
    if (errnoOf(error) !== 'ENOENT') throw error;
  }
  const chain = (await listRunLogChains(dir)).find((c) => c.liveName === liveName);
  const rotated: RotatedSegment[] = [];
  const uncompressed: string[] = [];
  for (const segment of chain?.rotated ?? []) {
    const plainPath = join(dir, rotatedFileName(liveName, segment.n, false));
    if (!segment.compressed || segment.plainToo) {
      const info = await stat(plainPath, { bigint: true });
      if (liveIno !== null && info.ino === liveIno && info.nlink >= 2n && !segment.compressed) {
        await unlink(plainPath);
        await syncDirectory(dir);
        continue;
      }
      uncompressed.push(plainPath);
    }
    rotated.push(segment);
  }
  const newest = rotated.at(-1) ?? null;
  return { nextN: (newest?.n ?? 0) + 1, newest, uncompressed };
}

/** Steps 2 and 3 (step 1 is the caller's): the live file becomes `<live>.<n>` and `newPath` the live file. */
export async function switchLiveFile(
  dir: string,
  livePath: string,
  newPath: string,
  n: number,
): Promise<string> {
  const plainPath = `${livePath}.${n}`;
  await link(livePath, plainPath);
  try {
    await syncDirectory(dir);
    await rename(newPath, livePath);
  } catch (error) {
    // The live name still holds the old file: the extra name is only a link to it.
    await unlink(plainPath).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
  return plainPath;
}
