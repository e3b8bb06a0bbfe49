/**
 * The run-log file format: a markdown header, then one markdown list item per entry. Pure.
 *
 *   - 2026-11-29T17:06:10.123Z · #12 · executed · job 7 · req forge:42 · action health_check · target web
 *     · env production · approval – · code – · web is healthy · mac 3f2a…   (one line in the file)
 *
 * Every value is escaped (escape.ts), so `·` appears only as the separator and no value can add a line.
 * `–` stands for null and `""` for the empty string; a value that is literally `""` is written `\u{22}"`.
 * Parsing is strict: a line parses only if formatting the result gives back exactly that line, so a line
 * with the same meaning but other bytes (a raw bidi control, a needless escape) is reported, not accepted.
 */
import { isValidAt, isValidEvent, NO_OPTIONAL_FIELDS, OPTIONAL_FIELDS, type RunLogEntry } from './entry.js';
import { escapeText, unescapeText } from '../contracts/escape-text.js';

export const FORMAT_ID = 'helm-run-log/1';

const SEPARATOR = ' · ';
const NONE = '–';
const EMPTY = '""';
const ENTRY_PREFIX = '- ';
const MAC_PATTERN = /^[0-9a-f]{64}$/;
const UUID_PATTERN = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** How each optional field is labelled on the line, in line order. */
const LABELS: Record<(typeof OPTIONAL_FIELDS)[number], string> = {
  job_id: 'job',
  request_id: 'req',
  action: 'action',
  target: 'target',
  environment: 'env',
  approval_id: 'approval',
  code: 'code',
};

export function encodeValue(value: string | null): string {
  if (value === null) return NONE;
  if (value === '') return EMPTY;
  const escaped = escapeText(value, 'line');
  return escaped === EMPTY ? '\\u{22}"' : escaped;
}

/** The value a token stands for, or undefined when the token is malformed. */
export function decodeValue(token: string): string | null | undefined {
  if (token === NONE) return null;
  if (token === EMPTY) return '';
  return unescapeText(token) ?? undefined;
}

/** The entry as one line, without the trailing newline. */
export function formatEntryLine(entry: RunLogEntry): string {
  const parts = [
    entry.at,
    `#${entry.seq}`,
    entry.event,
    ...OPTIONAL_FIELDS.map((field) => `${LABELS[field]} ${encodeValue(entry[field])}`),
    encodeValue(entry.message),
    `mac ${entry.mac}`,
  ];
  return ENTRY_PREFIX + parts.join(SEPARATOR);
}

export type ParsedLine = { ok: true; entry: RunLogEntry } | { ok: false; reason: string };

export function isEntryLine(line: string): boolean {
  return line.startsWith(ENTRY_PREFIX);
}

export function parseEntryLine(line: string): ParsedLine {
  const fail = (reason: string): ParsedLine => ({ ok: false, reason });
  if (!isEntryLine(line)) return fail('not a run-log entry (entries start with "- ")');
  // `·` never occurs inside an escaped value, so every `·` is a separator with one space either side.
  const raw = line.slice(ENTRY_PREFIX.length).split('·');
  const expected = 5 + OPTIONAL_FIELDS.length;
  if (raw.length !== expected) return fail(`has ${raw.length} fields, expected ${expected}`);
  const parts: string[] = [];
  for (const [i, part] of raw.entries()) {
    const first = i === 0;
    const last = i === raw.length - 1;
    if ((!first && !part.startsWith(' ')) || (!last && !part.endsWith(' '))) {
      return fail('a separator " · " is malformed');
    }
    parts.push(part.slice(first ? 0 : 1, last ? undefined : part.length - 1));
  }
  const [at, seqText, event] = parts as [string, string, string];
  const message = parts[parts.length - 2]!;
  const macText = parts[parts.length - 1]!;

  if (!isValidAt(at)) return fail(`time "${escapeText(at)}" is not an RFC 3339 UTC time`);
  const seqMatch = /^#([1-9][0-9]{0,15})$/.exec(seqText);
  if (!seqMatch || !Number.isSafeInteger(Number(seqMatch[1]))) return fail('sequence number is malformed');
  if (!isValidEvent(event)) return fail(`event "${escapeText(event)}" is not a valid event name`);
  if (!macText.startsWith('mac ') || !MAC_PATTERN.test(macText.slice(4))) return fail('mac is malformed');

  const entry: RunLogEntry = {
    seq: Number(seqMatch[1]),
    at,
    event,
    ...NO_OPTIONAL_FIELDS,
    message: '',
    mac: macText.slice(4),
  };
  for (const [i, field] of OPTIONAL_FIELDS.entries()) {
    const labelled = parts[3 + i]!;
    const label = `${LABELS[field]} `;
    if (!labelled.startsWith(label)) return fail(`field ${i + 4} should start with "${label.trim()}"`);
    const value = decodeValue(labelled.slice(label.length));
    if (value === undefined) return fail(`${LABELS[field]} has a malformed escape`);
    entry[field] = value;
  }
  const decodedMessage = decodeValue(message);
  if (decodedMessage === undefined) return fail('message has a malformed escape');
  if (decodedMessage === null) return fail('message is "–" (none), but a message is never none');
  entry.message = decodedMessage;

  if (formatEntryLine(entry) !== line) {
    return fail('is not written the way Helm writes it (an escape or raw character was changed)');
  }
  return { ok: true, entry };
}

/**
 * The header of a new file: what the format is, and the chain id that seeds the first mac. A file that
 * continues a rotated one (same chain, `first seq` = the last seq of the file before + 1) also records
 * that file's last mac, which its first entry is chained to: the chain runs on across files unbroken.
 */
export function renderHeader(chainId: string, firstSeq: number, previousMac: string | null = null): string {
  return [
    '# Helm run log',
    '',
    'Every action Helm attempted or executed, and its own events, one line per state change, oldest first:',
    '`- time · #seq · event · job · req · action · target · env · approval · code · message · mac`.',
    '`–` means none and `""` an empty value; `\\n`, `\\r`, `\\t`, `\\\\` and `\\u{…}` stand for escaped',
    "characters. Each mac is an HMAC-SHA256 over the previous line's mac and this entry, keyed with Helm's",
    'run-log key, so a changed, moved, inserted or deleted line breaks the chain. Never edit this file.',
    '',
    `format ${FORMAT_ID} · chain ${chainId} · first seq ${firstSeq}${previousMac === null ? '' : ` · previous mac ${previousMac}`}`,
    '',
    '',
  ].join('\n');
}

export type ParsedHeader =
  | {
      ok: true;
      chainId: string;
      firstSeq: number;
      /** The last mac of the file this one continues (rotation); null for the first file of a chain. */
      previousMac: string | null;
      lineCount: number;
      length: number;
    }
  | { ok: false; reason: string };

/** Reads the header at the start of `text`; it must be exactly the one `renderHeader` writes. */
export function parseHeader(text: string): ParsedHeader {
  const pattern = new RegExp(
    `^format ${FORMAT_ID.replace('/', '\\/')} · chain (${UUID_PATTERN}) · first seq ([1-9][0-9]{0,15})(?: · previous mac ([0-9a-f]{64}))?$`,
    'm',
  );
  const match = pattern.exec(text.slice(0, 4096));
  if (!match) return { ok: false, reason: `no "format ${FORMAT_ID} · chain …" line in the header` };
  const chainId = match[1]!;
  const firstSeq = Number(match[2]);
  const previousMac = match[3] ?? null;
  const header = renderHeader(chainId, firstSeq, previousMac);
  if (!text.startsWith(header)) return { ok: false, reason: 'the header was changed' };
  return {
    ok: true,
    chainId,
    firstSeq,
    previousMac,
    lineCount: header.split('\n').length - 1,
    length: header.length,
  };
}
