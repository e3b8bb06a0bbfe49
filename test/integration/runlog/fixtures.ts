/** Shared pieces of the run-log integration tests: a temp folder per test, a key, a clock we move. */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunLogStatus } from '../../../src/runlog/appender.js';

export const KEY = Buffer.alloc(32, 0x5a);

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'helm-runlog-'));
}

/** A clock that ticks 1 ms per call from a fixed start, so entry times are known and ordered. */
export function steppingClock(start = '2026-11-29T17:00:00.000Z'): { now(): Date; set(iso: string): void } {
  let t = Date.parse(start);
  return {
    now: () => new Date(t++),
    set: (iso: string) => {
      t = Date.parse(iso);
    },
  };
}

/** The entry lines of a log file, header left out. */
export async function entryLines(path: string): Promise<string[]> {
  return (await readFile(path, 'utf8')).split('\n').filter((l) => l.startsWith('- '));
}

/** Records every health transition a log reports. */
export function healthRecorder(): { seen: RunLogStatus[]; listener: (s: RunLogStatus) => void } {
  const seen: RunLogStatus[] = [];
  return { seen, listener: (s) => seen.push(s) };
}
