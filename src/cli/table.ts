import { escapeText } from '../contracts/escape-text.js';

/**
 * Columns padded to their widest cell, two spaces apart, for people. Cells are escaped: names,
 * labels and health details come from containers and may hold control or invisible characters.
 */
export function formatTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const safe = rows.map((row) => row.map((cell) => escapeText(cell)));
  const widths = header.map((h, i) => Math.max(h.length, ...safe.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...safe.map(line)].join('\n');
}
