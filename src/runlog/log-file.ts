/**
 * Opening the log file for the writer: verify an existing one (and refuse it if it fails), or create a
 * new one with its header and head record, durably.
 */
import { randomUUID } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { writeSyncRename } from '../base/durable-write.js';
import { basename } from 'node:path';
import { type ChainPosition, genesisMac, type RunLogKeys, sameMac, signHead } from './chain.js';
import { errnoOf, RunLogIntegrityError } from './errors.js';
import { readHeadRecord, writeHeadRecord } from './head-file.js';
import { renderHeader } from './line-format.js';
import { type RecoveredRotation, readSegmentText, recoverRotation, syncDirectory } from './rotation.js';
import { verifyRunLog } from './verify.js';
import { verifyRunLogText } from './verify-file.js';

export interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

export interface OpenedFile {
  handle: FileHandle;
  identity: FileIdentity;
  size: number;
  chainId: string;
  /** The seq of the file's first entry (`first seq` in its header). */
  firstSeq: number;
  position: ChainPosition;
  /** The rotated files found beside it. */
  rotation: RecoveredRotation;
}

/**
 * The log at `path`, verified, or a new one. Throws RunLogIntegrityError for a log that fails verification,
 * or that does not continue its newest rotated file (only that link is checked here, not every rotated
 * file: `verifyRunLogChain` does that).
 */
export async function openOrCreate(
  path: string,
  key: Buffer,
  keys: RunLogKeys,
  dir: string,
): Promise<OpenedFile> {
  const rotation = await recoverRotation(dir, basename(path));
  let handle: FileHandle;
  try {
    handle = await open(path, 'r+');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') {
      if (rotation.newest) {
        throw new RunLogIntegrityError(path, [
          {
            line: 0,
            reason: `the log file is missing but its rotated files (up to ${rotation.newest.name}) exist: the log was deleted or moved`,
          },
        ]);
      }
      return { ...(await createLogFile(path, keys, dir)), rotation };
    }
    throw error;
  }
  try {
    const info = await handle.stat({ bigint: true });
    const text = await handle.readFile('utf8');
    const head = await readHeadRecord(path);
    const result = verifyRunLogText(path, text, head, key);
    if (!result.ok || !result.end || !result.chainId) throw new RunLogIntegrityError(path, result.problems);
    const end = result.end;
    await checkContinues(path, key, rotation, result);
    // A head behind the last line (crash between sync and rename) is fine; bring it up to date now.
    const headCurrent =
      head !== null && !('unreadable' in head) && head.seq === end.seq && head.mac === end.mac;
    if (!headCurrent) await writeHeadRecord(path, signHead(keys, result.chainId, end));
    return {
      handle,
      identity: { dev: info.dev, ino: info.ino },
      size: Number(info.size),
      chainId: result.chainId,
      firstSeq: result.start!.seq + 1,
      position: end,
      rotation,
    };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

/** The live file must continue the newest rotated file exactly; a live file with no rotated file must not continue one. */
async function checkContinues(
  path: string,
  key: Buffer,
  rotation: RecoveredRotation,
  live: { chainId: string | null; start: ChainPosition | null; continues: boolean },
): Promise<void> {
  const fail = (reason: string) => new RunLogIntegrityError(path, [{ line: 0, reason }]);
  if (!rotation.newest) {
    if (live.continues)
      throw fail('the log continues a rotated file, but no rotated file is there: it was deleted or moved');
    return;
  }
  if (!live.continues)
    throw fail(`the log starts a new chain although rotated files (up to ${rotation.newest.name}) exist`);
  const previous = verifyRunLog(await readSegmentText(rotation.newest), key);
  const end = previous.end;
  if (
    previous.chainId !== live.chainId ||
    !end ||
    !live.start ||
    end.seq !== live.start.seq ||
    !sameMac(end.mac, live.start.mac)
  ) {
    throw fail(
      `the log does not continue ${rotation.newest.name} (a rotated file is missing or out of order, or lines were cut from its end)`,
    );
  }
}

async function createLogFile(
  path: string,
  keys: RunLogKeys,
  dir: string,
): Promise<Omit<OpenedFile, 'rotation'>> {
  // A head without its log means the log was deleted or moved: starting a fresh chain would hide that.
  if ((await readHeadRecord(path)) !== null) {
    throw new RunLogIntegrityError(path, [
      { line: 0, reason: 'the log file is missing but its head record exists: the log was deleted or moved' },
    ]);
  }
  const chainId = randomUUID();
  const firstSeq = 1;
  await writeSyncRename(path, renderHeader(chainId, firstSeq), { temp: `${path}.new`, mode: 0o644 });
  await syncDirectory(dir);
  const position = { seq: firstSeq - 1, mac: genesisMac(keys, chainId, firstSeq) };
  await writeHeadRecord(path, signHead(keys, chainId, position));
  const opened = await open(path, 'r+');
  const info = await opened.stat({ bigint: true });
  return {
    handle: opened,
    identity: { dev: info.dev, ino: info.ino },
    size: Number(info.size),
    chainId,
    firstSeq,
    position,
  };
}

/**
 * Rotation step 1: `<path>.new` with the header of a file that continues the chain after `position`,
 * synced, and opened. The caller renames it over the live file (rotation.ts).
 */
export async function createContinuation(
  path: string,
  chainId: string,
  position: ChainPosition,
): Promise<{ newPath: string; handle: FileHandle; identity: FileIdentity; size: number; firstSeq: number }> {
  const newPath = `${path}.new`;
  const firstSeq = position.seq + 1;
  const handle = await open(newPath, 'w+', 0o644);
  try {
    await handle.writeFile(renderHeader(chainId, firstSeq, position.mac), 'utf8');
    await handle.sync();
    const info = await handle.stat({ bigint: true });
    return {
      newPath,
      handle,
      identity: { dev: info.dev, ino: info.ino },
      size: Number(info.size),
      firstSeq,
    };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}
