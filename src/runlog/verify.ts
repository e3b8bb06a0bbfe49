/**
 * Checks a run log against its key: header, line format, seq without gaps, the mac chain, and — given
 * the head record — that no line was cut from the end. Pure: the caller reads the files.
 */
import {
  type ChainPosition,
  deriveRunLogKeys,
  entryMac,
  genesisMac,
  type HeadRecord,
  isAuthenticHead,
  sameMac,
} from './chain.js';
import type { RunLogEntry } from './entry.js';
import { isEntryLine, parseEntryLine, parseHeader } from './line-format.js';

/** A problem in plain words. `line` is 1-based; 0 means the file as a whole or its head record. */
export interface RunLogProblem {
  line: number;
  reason: string;
}

export interface RunLogVerification {
  ok: boolean;
  /** Every entry that parsed, in file order, whether or not its mac matched. */
  entries: RunLogEntry[];
  problems: RunLogProblem[];
  chainId: string | null;
  /** Where the chain stands after the last entry (null when the header is unreadable). */
  end: ChainPosition | null;
  /**
   * Where the file starts: `first seq` − 1 and the genesis mac, or, for a file that continues a rotated
   * one, the previous file's last seq and mac (null when the header is unreadable).
   */
  start: ChainPosition | null;
  /** True when the header says the file continues an earlier (rotated) file of the same chain. */
  continues: boolean;
}

export interface VerifyOptions {
  /**
   * The head record from `<file>.head`; null when that file is missing. Leave it out to check the text
   * alone, which cannot tell a file whose last lines were deleted from a shorter one.
   */
  head?: HeadRecord | null;
}

const CHAIN_BROKEN =
  'mac does not match: the line was changed, moved or inserted, or written without the run-log key (or the key is wrong)';

export function verifyRunLog(text: string, key: Buffer, options: VerifyOptions = {}): RunLogVerification {
  const keys = deriveRunLogKeys(key);
  const problems: RunLogProblem[] = [];
  const entries: RunLogEntry[] = [];
  const header = parseHeader(text);
  if (!header.ok) {
    return {
      ok: false,
      entries,
      problems: [{ line: 1, reason: header.reason }],
      chainId: null,
      end: null,
      start: null,
      continues: false,
    };
  }

  const lines = text.slice(header.length).split('\n');
  const complete = lines.pop() === '';
  const start: ChainPosition = {
    seq: header.firstSeq - 1,
    mac: header.previousMac ?? genesisMac(keys, header.chainId, header.firstSeq),
  };
  let position = start;
  let lineNo = header.lineCount;
  // Set after a line that looks like an entry but does not parse: its seq and mac are unknown, so the
  // next entry's link to it cannot be checked (the broken line is already reported).
  let linkUnknown = false;
  for (const line of lines) {
    lineNo += 1;
    if (!isEntryLine(line)) {
      problems.push({
        line: lineNo,
        reason: line === '' ? 'blank line among the entries' : 'not a run-log entry',
      });
      continue;
    }
    const parsed = parseEntryLine(line);
    if (!parsed.ok) {
      problems.push({ line: lineNo, reason: `entry ${parsed.reason}` });
      linkUnknown = true;
      continue;
    }
    const entry = parsed.entry;
    if (!linkUnknown && entry.seq !== position.seq + 1) {
      problems.push({
        line: lineNo,
        reason: `sequence number is #${entry.seq} where #${position.seq + 1} was expected: a line was deleted, moved or inserted`,
      });
    }
    if (!linkUnknown && !sameMac(entry.mac, entryMac(keys, position.mac, entry))) {
      problems.push({ line: lineNo, reason: CHAIN_BROKEN });
    }
    linkUnknown = false;
    entries.push(entry);
    // Continue from this line's own mac and seq so one bad line is reported once, not on every line after it.
    position = { seq: entry.seq, mac: entry.mac };
  }
  if (!complete) {
    problems.push({
      line: lineNo + 1,
      reason:
        'the last line is incomplete (no newline at the end): a write was cut off or the file was edited',
    });
  }

  if (options.head !== undefined) {
    const headProblem = checkHead(options.head, header.chainId, start, position, entries, keys);
    if (headProblem) problems.push({ line: headProblem.atEnd ? lineNo + 1 : 0, reason: headProblem.reason });
  }
  return {
    ok: problems.length === 0,
    entries,
    problems,
    chainId: header.chainId,
    end: position,
    start,
    continues: header.previousMac !== null,
  };
}

function checkHead(
  head: HeadRecord | null,
  chainId: string,
  start: ChainPosition,
  end: ChainPosition,
  entries: readonly RunLogEntry[],
  keys: ReturnType<typeof deriveRunLogKeys>,
): { atEnd: boolean; reason: string } | null {
  if (head === null) {
    // A file with no entries may have lost its head in a crash right after creation; nothing can be missing.
    if (entries.length === 0) return null;
    return { atEnd: false, reason: 'the head file is missing, so deleted lines at the end would not show' };
  }
  if (!isAuthenticHead(keys, head)) {
    return { atEnd: false, reason: 'the head record was changed or written without the run-log key' };
  }
  if (head.chain !== chainId)
    return { atEnd: false, reason: 'the head record belongs to another run-log file' };
  if (head.seq > end.seq) {
    const missing = head.seq - end.seq;
    return {
      atEnd: true,
      reason: `the head record says the log reached #${head.seq} but the last line is #${end.seq}: ${missing} line(s) at the end were deleted`,
    };
  }
  // A head behind the last line is what a crash between the log's sync and the head's rename leaves; the
  // lines after it are chained under the key, so they cannot have been added by someone without it.
  // After a rotation the head pins the new file's start (the previous file's last line) until its first append.
  const pinned = head.seq === start.seq ? start.mac : entries.find((e) => e.seq === head.seq)?.mac;
  if (pinned === undefined || !sameMac(pinned, head.mac)) {
    return { atEnd: false, reason: `the line with #${head.seq} is not the one the head record pinned` };
  }
  return null;
}
