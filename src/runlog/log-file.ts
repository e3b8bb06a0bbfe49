/**
 * Opening the log file for the writer: verify an existing one (and refuse it if it fails), or create a
 * new one with its header and head record, durably.
 */
import { randomUUID } from 'node:crypto';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { type ChainPosition, genesisMac, type RunLogKeys, signHead } from './chain.js';
import { errnoOf, RunLogIntegrityError } from './errors.js';
import { readHeadRecord, writeHeadRecord } from './head-file.js';
import { renderHeader } from './line-format.js';
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
  position: ChainPosition;
}

/** The log at `path`, verified, or a new one. Throws RunLogIntegrityError for a log that fails verification. */
export async function openOrCreate(
  path: string,
  key: Buffer,
  keys: RunLogKeys,
  dir: string,
): Promise<OpenedFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r+');
  } catch (error) {
    if (errnoOf(error) === 'ENOENT') return createLogFile(path, keys, dir);
    throw error;
  }
  try {
    const info = await handle.stat({ bigint: true });
    const text = await handle.readFile('utf8');
    const head = await readHeadRecord(path);
    const result = verifyRunLogText(path, text, head, key);
    if (!result.ok || !result.end || !result.chainId) throw new RunLogIntegrityError(path, result.problems);
    const end = result.end;
    // A head behind the last line (crash between sync and rename) is fine; bring it up to date now.
    const headCurrent =
      head !== null && !('unreadable' in head) && head.seq === end.seq && head.mac === end.mac;
    if (!headCurrent) await writeHeadRecord(path, signHead(keys, result.chainId, end));
    return {
      handle,
      identity: { dev: info.dev, ino: info.ino },
      size: Number(info.size),
      chainId: result.chainId,
      position: end,
    };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error;
  }
}

async function createLogFile(path: string, keys: RunLogKeys, dir: string): Promise<OpenedFile> {
  // A head without its log means the log was deleted or moved: starting a fresh chain would hide that.
  if ((await readHeadRecord(path)) !== null) {
    throw new RunLogIntegrityError(path, [
      { line: 0, reason: 'the log file is missing but its head record exists: the log was deleted or moved' },
    ]);
  }
  const chainId = randomUUID();
  const firstSeq = 1;
  const temp = `${path}.new`;
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(renderHeader(chainId, firstSeq), 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
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
    position,
  };
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
