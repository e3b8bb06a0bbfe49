import { formatEntryForPeople, type MergedRunLogs } from '../runlog/index.js';
import { jsonDocument, type VerbOutput } from './output.js';

/**
 * `helm log [--verify] [--json]`: the run log of every process merged by time, its chain verified.
 * Each chain problem is one line on stderr and exit code 1. With --json one document:
 * `{ verified, entry_count, problems, entries }` (no `entries` with --verify).
 */
export function describeLog(merged: MergedRunLogs, opts: { verify: boolean; json: boolean }): VerbOutput {
  const verified = merged.problems.length === 0;
  const stderr = merged.problems
    .map((p) => `chain problem: ${p.file} line ${p.line}: ${p.reason}\n`)
    .join('');
  const exitCode = verified ? 0 : 1;
  if (opts.json) {
    const doc = {
      verified,
      entry_count: merged.entries.length,
      problems: merged.problems.map((p) => ({ file: p.file, line: p.line, reason: p.reason })),
      ...(opts.verify ? {} : { entries: merged.entries }),
    };
    return { stdout: jsonDocument(doc), stderr, exitCode };
  }
  const lines = opts.verify
    ? verified
      ? [`run log verified: ${merged.entries.length} entries`]
      : []
    : merged.entries.map(formatEntryForPeople);
  return { stdout: lines.map((l) => `${l}\n`).join(''), stderr, exitCode };
}
