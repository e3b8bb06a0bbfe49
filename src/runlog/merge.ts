/**
 * All run logs of a folder as one verified timeline, for `helm log`: every process's file, each with its
 * rotated files (`run_log.md.<n>.gz`), every chain verified as a whole across its files.
 */
import type { RunLogEntry } from './entry.js';
import { verifyRunLogChains } from './verify-chain.js';

/** An entry and the file (name within the folder) it came from. */
export interface MergedRunLogEntry extends RunLogEntry {
  file: string;
}

export interface MergedRunLogs {
  /** True when every file verified. */
  ok: boolean;
  /** The file names read: chains by live file name, each oldest rotated file first, live file last. */
  files: string[];
  /** Sorted by time, then file name, then seq. Includes entries of files that failed verification. */
  entries: MergedRunLogEntry[];
  problems: { file: string; line: number; reason: string }[];
}

export async function mergeRunLogs(dir: string, key: Buffer): Promise<MergedRunLogs> {
  const files: string[] = [];
  const entries: MergedRunLogEntry[] = [];
  const problems: MergedRunLogs['problems'] = [];
  for (const chain of await verifyRunLogChains(dir, key)) {
    files.push(...chain.files);
    entries.push(...chain.entries);
    problems.push(...chain.problems);
  }
  entries.sort(compareMerged);
  return { ok: problems.length === 0, files, entries, problems };
}

/** `at` strings share one fixed-width format, so comparing them as strings compares the times. */
export function compareMerged(a: MergedRunLogEntry, b: MergedRunLogEntry): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  // A chain's files share one seq order: compare by the live file's name, so a rotated file is not split off.
  const chainA = chainNameOf(a.file);
  const chainB = chainNameOf(b.file);
  if (chainA !== chainB) return chainA < chainB ? -1 : 1;
  return a.seq - b.seq;
}

function chainNameOf(file: string): string {
  return file.replace(/\.[0-9]+(\.gz)?$/, '');
}
