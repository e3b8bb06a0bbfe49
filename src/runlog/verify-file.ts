/**
 * Reads a run-log file and its head record from disk and verifies them (the I/O half of verify.ts).
 */
import { readFile } from 'node:fs/promises';
import type { HeadRecord } from './chain.js';
import { readHeadRecord } from './head-file.js';
import { type RunLogVerification, verifyRunLog } from './verify.js';

export interface RunLogFileVerification extends RunLogVerification {
  path: string;
}

/** Verifies `path` with its `<path>.head`. Throws only when the log itself cannot be read. */
export async function verifyRunLogFile(path: string, key: Buffer): Promise<RunLogFileVerification> {
  const text = await readFile(path, 'utf8');
  return verifyRunLogText(path, text, await readHeadRecord(path), key);
}

/** verifyRunLog plus the head record as read from disk. */
export function verifyRunLogText(
  path: string,
  text: string,
  head: HeadRecord | null | { unreadable: string },
  key: Buffer,
): RunLogFileVerification {
  if (head !== null && 'unreadable' in head) {
    const result = verifyRunLog(text, key);
    const problems = [...result.problems, { line: 0, reason: head.unreadable }];
    return { ...result, ok: false, problems, path };
  }
  return { ...verifyRunLog(text, key, { head }), path };
}
