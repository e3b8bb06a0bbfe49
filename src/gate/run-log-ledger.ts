import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import { parseEntryLine } from '../runlog/index.js';
import { type ApprovalLedger, makeApprovalLedger } from './approval-ledger.js';

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

export async function makeRunLogLedger(opts: {
  dir: string;
  clock: Clock;
  horizonMs: number;
}): Promise<ApprovalLedger & { refresh(): Promise<void> }> {
  const ledger = makeApprovalLedger();
  const offsets = new Map<string, number>();

  async function readNew(file: string): Promise<void> {
    const handle = await open(join(opts.dir, file), 'r').catch(() => null);
    if (!handle) return;
    try {
      const from = offsets.get(file) ?? 0;
      const { size } = await handle.stat();
      if (size <= from) return;
      const buf = Buffer.alloc(size - from);
      await handle.read(buf, 0, buf.length, from);
      // Only whole lines: a line still being written is read next time.
      const end = buf.lastIndexOf(0x0a);
      if (end < 0) return;
      offsets.set(file, from + end + 1);
      const since = opts.clock.now().getTime() - opts.horizonMs;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        const parsed = parseEntryLine(line);
        if (parsed.ok && Date.parse(parsed.entry.at) >= since) ledger.note(parsed.entry);
      }
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
