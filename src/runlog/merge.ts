/**
 * All run logs of a folder as one verified timeline, for `helm log`.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunLogEntry } from './entry.js';
import { verifyRunLogFile } from './verify-file.js';

/** An entry and the file (name within the folder) it came from. */
export interface MergedRunLogEntry extends RunLogEntry {
  file: string;
}

export interface MergedRunLogs {
  /** True when every file verified. */
  ok: boolean;
  /** The file names read, sorted. */
  files: string[];
  /** Sorted by time, then file name, then seq. Includes entries of files that failed verification. */
  entries: MergedRunLogEntry[];
  problems: { file: string; line: number; reason: string }[];
}

const RUN_LOG_FILE = /^run_log.*\.md$/;

export async function mergeRunLogs(dir: string, key: Buffer): Promise<MergedRunLogs> {
  const files = (await readdir(dir, { withFileTypes: true }))
    .filter((d) => d.isFile() && RUN_LOG_FILE.test(d.name))
    .map((d) => d.name)
    .sort();
  const entries: MergedRunLogEntry[] = [];
  const problems: MergedRunLogs['problems'] = [];
  for (const file of files) {
    const result = await verifyRunLogFile(join(dir, file), key);
    for (const entry of result.entries) entries.push({ ...entry, file });
    for (const problem of result.problems) problems.push({ file, ...problem });
  }
  entries.sort(compareMerged);
  return { ok: problems.length === 0, files, entries, problems };
}

/** `at` strings share one fixed-width format, so comparing them as strings compares the times. */
export function compareMerged(a: MergedRunLogEntry, b: MergedRunLogEntry): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.seq - b.seq;
}
