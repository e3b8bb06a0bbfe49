import { escapeText, isUnsafeCodePoint } from '../contracts/escape-text.js';

/**
 * A finished JSON log line with every string in it (keys too) escaped by the run log's own escaping
 * (`escapeText`, terminal mode), so that Helm's stdout and log file show a hostile value exactly as
 * `helm log` shows it: `\u{202e}` for a bidi override, `\u{7}` for a bell, never the raw character nor
 * a JSON escape that a reader would turn back into it. Pure; the line stays valid JSON on one line.
 */
export function escapeLogLine(line: string): string {
  if (!needsEscaping(line)) return line;
  const newline = line.endsWith('\n') ? '\n' : '';
  const body = newline ? line.slice(0, -1) : line;
  try {
    return `${JSON.stringify(escapeStrings(JSON.parse(body)))}${newline}`;
  } catch {
    // Not JSON (never from pino): the text itself, escaped.
    return `${escapeText(body, 'terminal')}${newline}`;
  }
}

/** Only a backslash (a JSON escape) or a raw unsafe code point can hold something to escape. */
function needsEscaping(line: string): boolean {
  for (const ch of line) {
    const cp = ch.codePointAt(0)!;
    if (cp === 0x5c || (cp !== 0x0a && isUnsafeCodePoint(cp))) return true;
  }
  return false;
}

function escapeStrings(value: unknown): unknown {
  if (typeof value === 'string') return escapeText(value, 'terminal');
  if (Array.isArray(value)) return value.map(escapeStrings);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[escapeText(k, 'terminal')] = escapeStrings(v);
    return out;
  }
  return value;
}
