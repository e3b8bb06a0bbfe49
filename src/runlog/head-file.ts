/**
 * Reading and atomically replacing `<log>.head`.
 */
import { readFile } from 'node:fs/promises';
import { writeSyncRename } from '../base/durable-write.js';
import { formatHeadRecord, type HeadRecord, parseHeadRecord } from './chain.js';

export function headPathOf(logPath: string): string {
  return `${logPath}.head`;
}

/** The head record, null when the file is missing, or a reason when it exists but cannot be read. */
export async function readHeadRecord(logPath: string): Promise<HeadRecord | null | { unreadable: string }> {
  let text: string;
  try {
    text = await readFile(headPathOf(logPath), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return {
      unreadable: `the head file cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    };
  }
  return parseHeadRecord(text) ?? { unreadable: 'the head file is not a head record' };
}

/**
 * Write a temp file, sync it, rename it over the head. The sync matters: without it a crash can leave
 * an empty head after the rename, and an unreadable head makes Helm refuse the whole log. The directory
 * is not synced: after a crash the old head may come back, which verification accepts (a head behind the
 * last line), because the lines after it are chained under the key.
 */
export async function writeHeadRecord(logPath: string, head: HeadRecord): Promise<void> {
  const path = headPathOf(logPath);
  await writeSyncRename(path, formatHeadRecord(head), { temp: `${path}.tmp`, mode: 0o644 });
}
