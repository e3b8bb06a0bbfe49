// Reads a test Helm's run log back through the run log's own parser (no key: tests of the chain
// itself live in test/*/runlog/).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseEntryLine, type RunLogEntry } from '../../src/runlog/index.js';

export async function readRunLogEntries(memoryDir: string, file = 'run_log.md'): Promise<RunLogEntry[]> {
  const text = await readFile(path.join(memoryDir, file), 'utf8');
  const entries: RunLogEntry[] = [];
  for (const line of text.split('\n')) {
    const parsed = parseEntryLine(line);
    if (parsed.ok) entries.push(parsed.entry);
  }
  return entries;
}
