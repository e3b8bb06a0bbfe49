import { type FileHandle, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../base/clock.js';
import { listRunLogChains, parseEntryLine, readSegmentText } from '../runlog/index.js';
import { type ApprovalLedger, makeApprovalLedger } from '../runlog/approval-ledger.js';

/**
 * The approval ledger of every Helm process on this host: it follows all run-log files in the memory
 * folder (each process writes its own), reading only what was appended since its last look. So a
 * decision consumed by one process, or a change started by another, is known to all of them before
 * they accept a decision or start a change, even if Redis forgot it.
 *
 * Lines are parsed, not chain-verified, here: the chain is verified at start-up and by `helm log`;
 * what a line can do to this ledger is only make Helm refuse more, never allow more.
 */
const RUN_LOG_FILE = /^run_log.*\.md$/;
// run-log rotation (src/runlog/rotation.ts): the live file is replaced by a new one that continues the
// chain, the old one becomes `<file>.<n>.gz` (or `<file>.<n>` until compressed). The ledger follows the
// live files only; when one was replaced, the lines appended to the old one since the last look are read
// from its rotated copy. Older rotated files hold nothing recent, so they are not read.
const FIRST_SEQ = /^format \S+ · chain \S+ · first seq ([0-9]+)/m;

export async function makeRunLogLedger(opts: {
  dir: string;
  clock: Clock;
  horizonMs: number;
}): Promise<ApprovalLedger & { refresh(): Promise<void> }> {
  const ledger = makeApprovalLedger();
  const offsets = new Map<string, FileMark & { ino: number }>();

  function noteLines(text: string): void {
    const since = opts.clock.now().getTime() - opts.horizonMs;
    for (const line of text.split('\n')) {
      const parsed = parseEntryLine(line);
      if (parsed.ok && Date.parse(parsed.entry.at) >= since) ledger.note(parsed.entry);
    }
  }

  async function readNew(file: string): Promise<void> {
    const handle = await open(join(opts.dir, file), 'r').catch(() => null);
    if (!handle) return;
    try {
      const { size, ino } = await handle.stat();
      let state = offsets.get(file);
      // Replaced by a rotation: another inode, or (inodes are reused once a rotated copy is removed)
      // a header that starts at another seq.
      if (
        state &&
        (state.ino !== ino || (state.firstSeq !== null && (await headerFirstSeq(handle)) !== state.firstSeq))
      ) {
        await catchUpRotated(opts.dir, file, state, noteLines);
        state = undefined;
      }
      const from = state?.offset ?? 0;
      if (size <= from) return;
      const buf = Buffer.alloc(size - from);
      await handle.read(buf, 0, buf.length, from);
      // Only whole lines: a line still being written is read next time.
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) return;
      const text = buf.subarray(0, end).toString('utf8');
      const firstSeq =
        state?.firstSeq ??
        (from === 0 ? Number(FIRST_SEQ.exec(text.slice(0, 4096))?.[1] ?? Number.NaN) : null);
      offsets.set(file, {
        ino,
        offset: from + end + 1,
        firstSeq: Number.isSafeInteger(firstSeq) ? firstSeq : null,
      });
      noteLines(text);
    } finally {
      await handle.close();
    }
  }

  async function refresh(): Promise<void> {
    const files = (await readdir(opts.dir).catch(() => [] as string[]))
      .filter((f) => RUN_LOG_FILE.test(f))
      .sort();
    for (const f of files) await readNew(f);
  }

  await refresh();
  return {
    ...ledger,
    note: ledger.note,
    consumedFor: ledger.consumedFor,
    hasStarted: ledger.hasStarted,
    refresh,
    get size() {
      return ledger.size;
    },
  };
}

type FileMark = { offset: number; firstSeq: number | null };

/** The rest of a live file that was rotated away, read from its rotated copy (and any rotated after it). */
async function catchUpRotated(
  dir: string,
  file: string,
  was: FileMark,
  noteLines: (text: string) => void,
): Promise<void> {
  // A rotated copy is compressed in the background: between our listing and our read it may have
  // become `.gz` (the uncompressed copy removed). Noting a line twice is harmless, so list again.
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (await catchUpOnce(dir, file, was, noteLines)) return;
  }
}

/** False when a listed segment could not be read (it was being compressed): try again. */
async function catchUpOnce(
  dir: string,
  file: string,
  was: FileMark,
  noteLines: (text: string) => void,
): Promise<boolean> {
  const chain = (await listRunLogChains(dir).catch(() => [])).find((c) => c.liveName === file);
  for (const segment of [...(chain?.rotated ?? [])].reverse()) {
    const text = await readSegmentText(segment).catch(() => null);
    if (text === null) return false;
    const firstSeq = Number(FIRST_SEQ.exec(text.slice(0, 4096))?.[1] ?? Number.NaN);
    if (was.firstSeq === null || firstSeq === was.firstSeq) {
      noteLines(Buffer.from(text, 'utf8').subarray(was.offset).toString('utf8'));
      return true;
    }
    if (!(firstSeq > was.firstSeq)) return true;
    noteLines(text);
  }
  return true;
}

async function headerFirstSeq(handle: FileHandle): Promise<number | null> {
  const buf = Buffer.alloc(4096);
  const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
  const seq = Number(FIRST_SEQ.exec(buf.subarray(0, bytesRead).toString('utf8'))?.[1] ?? Number.NaN);
  return Number.isSafeInteger(seq) ? seq : null;
}
