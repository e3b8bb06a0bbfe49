/**
 * Verifies a run log as a whole: its rotated files (`run_log.md.1.gz`, `.2.gz`, …) in order, then the
 * live file with its head record. Each file is verified on its own (header, lines, seq, macs), and each
 * file after the first must start exactly where the one before ends (same chain, `first seq` = its last
 * seq + 1, first entry chained to its last mac). So an edited, moved or deleted line in any file, a
 * missing, renamed or reordered file, and lines cut from the end of a rotated file all show.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChainPosition } from './chain.js';
import type { RunLogEntry } from './entry.js';
import { readHeadRecord } from './head-file.js';
import { listRunLogChains, type RunLogChainFiles, readSegmentText, rotatedFileName } from './rotation.js';
import { type RunLogVerification, verifyRunLog } from './verify.js';
import { verifyRunLogText } from './verify-file.js';

export interface RunLogChainProblem {
  /** The file name within the folder (a rotated file's name even when it is missing). */
  file: string;
  /** 1-based line in the (decompressed) file; 0 for the file as a whole. */
  line: number;
  reason: string;
}

export interface RunLogChainVerification {
  ok: boolean;
  /** The live file's name: the chain's name. */
  liveName: string;
  /** The files read, oldest first. */
  files: string[];
  /** Every entry that parsed, oldest first, with the file it is in. */
  entries: (RunLogEntry & { file: string })[];
  problems: RunLogChainProblem[];
  /** Where the chain ends (null when no file could be read). */
  end: ChainPosition | null;
}

/** Verifies the chain of `fileName` (default `run_log.md`) in `dir`, rotated files included. */
export async function verifyRunLogChain(
  dir: string,
  key: Buffer,
  fileName = 'run_log.md',
): Promise<RunLogChainVerification> {
  const chain = (await listRunLogChains(dir)).find((c) => c.liveName === fileName) ?? {
    liveName: fileName,
    livePath: null,
    rotated: [],
  };
  return verifyChainFiles(dir, chain, key);
}

/** Every chain in `dir` (one per live file name, and any rotated files whose live file is gone). */
export async function verifyRunLogChains(dir: string, key: Buffer): Promise<RunLogChainVerification[]> {
  const result: RunLogChainVerification[] = [];
  for (const chain of await listRunLogChains(dir)) result.push(await verifyChainFiles(dir, chain, key));
  return result;
}

async function verifyChainFiles(
  dir: string,
  chain: RunLogChainFiles,
  key: Buffer,
): Promise<RunLogChainVerification> {
  const files: string[] = [];
  const entries: RunLogChainVerification['entries'] = [];
  const problems: RunLogChainProblem[] = [];
  let previous: { file: string; result: RunLogVerification } | null = null;

  const link = (file: string, result: RunLogVerification) => {
    if (!result.start) return;
    if (previous === null) {
      if (result.continues) {
        problems.push({
          file,
          line: 0,
          reason: `this file continues an earlier one that ended at #${result.start.seq}, which is missing: rotated run-log files were deleted or moved`,
        });
      }
    } else if (previous.result.end && previous.result.chainId) {
      const end = previous.result.end;
      if (!result.continues) {
        problems.push({
          file,
          line: 0,
          reason: `this file starts a new chain where it should continue ${previous.file}`,
        });
      } else if (result.chainId !== previous.result.chainId) {
        problems.push({ file, line: 0, reason: `this file belongs to another chain than ${previous.file}` });
      } else if (result.start.seq !== end.seq || result.start.mac !== end.mac) {
        problems.push({
          file,
          line: 0,
          reason:
            `this file continues after #${result.start.seq} but ${previous.file} ends at #${end.seq}` +
            `${result.start.seq === end.seq ? ' with another mac' : ''}: a run-log file is missing or out of order, or lines were cut from the end of ${previous.file}`,
        });
      }
    }
    previous = { file, result };
  };
  const take = (file: string, result: RunLogVerification) => {
    files.push(file);
    for (const entry of result.entries) entries.push({ ...entry, file });
    for (const problem of result.problems) problems.push({ file, ...problem });
    link(file, result);
  };

  let expectedN = 1;
  for (const segment of chain.rotated) {
    for (; expectedN < segment.n; expectedN += 1) {
      problems.push({
        file: rotatedFileName(chain.liveName, expectedN),
        line: 0,
        reason: 'this rotated run-log file is missing: it was deleted or moved',
      });
    }
    expectedN = segment.n + 1;
    let text: string;
    try {
      text = await readSegmentText(segment);
    } catch (error) {
      files.push(segment.name);
      problems.push({
        file: segment.name,
        line: 0,
        reason: `cannot be read or decompressed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      });
      previous = null;
      continue;
    }
    // A rotated file has no head record: the next file's header pins its end.
    take(segment.name, verifyRunLog(text, key));
  }

  const livePath = chain.livePath ?? join(dir, chain.liveName);
  let liveText: string | null = null;
  try {
    liveText = chain.livePath ? await readFile(livePath, 'utf8') : null;
  } catch (error) {
    problems.push({
      file: chain.liveName,
      line: 0,
      reason: `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    });
  }
  if (liveText !== null) {
    take(chain.liveName, verifyRunLogText(livePath, liveText, await readHeadRecord(livePath), key));
  } else if (chain.livePath === null && chain.rotated.length > 0) {
    problems.push({
      file: chain.liveName,
      line: 0,
      reason: 'the live run-log file is missing while its rotated files exist: it was deleted or moved',
    });
  }
  const end = previous === null ? null : (previous as { result: RunLogVerification }).result.end;
  return { ok: problems.length === 0, liveName: chain.liveName, files, entries, problems, end };
}
