/**
 * The keyed hash chain: each mac covers the previous mac and the entry, the first one a genesis value
 * bound to the file's chain id, and a signed head record pins the last entry so that a deleted last line
 * shows. Pure apart from node:crypto.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import canonicalize from 'canonicalize';
import { OPTIONAL_FIELDS, type RunLogDraft, type RunLogEntry } from './entry.js';
import { FORMAT_ID } from './line-format.js';

/** One subkey per use, so no mac of one kind can stand in for another. */
export interface RunLogKeys {
  readonly entry: Buffer;
  readonly genesis: Buffer;
  readonly head: Buffer;
}

export const MIN_KEY_BYTES = 16;

export function deriveRunLogKeys(key: Buffer): RunLogKeys {
  if (!Buffer.isBuffer(key) || key.length < MIN_KEY_BYTES) {
    throw new TypeError(`run-log key must be a Buffer of at least ${MIN_KEY_BYTES} bytes`);
  }
  const sub = (label: string) => createHmac('sha256', key).update(`${FORMAT_ID} ${label}`).digest();
  return { entry: sub('entry'), genesis: sub('genesis'), head: sub('head') };
}

/** The "previous mac" of a file's first entry. */
export function genesisMac(keys: RunLogKeys, chainId: string, firstSeq: number): string {
  return createHmac('sha256', keys.genesis)
    .update(canonicalize({ chain: chainId, first_seq: firstSeq })!)
    .digest('hex');
}

// JCS forbids lone surrogates, which entries may hold; escaping `\` and lone surrogates first keeps the
// mapping one-to-one and every string well-formed.
function wellFormed(value: string): string {
  return value.replace(/\\|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, (m) =>
    m === '\\' ? '\\\\' : `\\u{${m.charCodeAt(0).toString(16)}}`,
  );
}

/** The bytes an entry's mac covers besides the previous mac: RFC 8785 JSON of every field but the mac. */
export function canonicalEntryBytes(entry: Omit<RunLogEntry, 'mac'>): Buffer {
  // Named one by one so that extra properties a caller carries (a merged entry's `file`) never count.
  const fields: Record<string, string | number | null> = {
    seq: entry.seq,
    at: wellFormed(entry.at),
    event: wellFormed(entry.event),
    message: wellFormed(entry.message),
  };
  for (const name of OPTIONAL_FIELDS) {
    const value = entry[name];
    fields[name] = value === null ? null : wellFormed(value);
  }
  return Buffer.from(canonicalize(fields)!, 'utf8');
}

export function entryMac(keys: RunLogKeys, prevMac: string, entry: Omit<RunLogEntry, 'mac'>): string {
  return createHmac('sha256', keys.entry)
    .update(Buffer.from(prevMac, 'hex'))
    .update(canonicalEntryBytes(entry))
    .digest('hex');
}

export function sameMac(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Where a chain stands: the last seq written (firstSeq − 1 when empty) and its mac (genesis when empty). */
export interface ChainPosition {
  seq: number;
  mac: string;
}

/** Gives drafts their seq and mac, continuing from `after`. */
export function sealEntries(
  keys: RunLogKeys,
  after: ChainPosition,
  drafts: readonly RunLogDraft[],
): RunLogEntry[] {
  let { seq, mac } = after;
  return drafts.map((draft) => {
    seq += 1;
    const unsealed = { ...draft, seq };
    mac = entryMac(keys, mac, unsealed);
    return { ...unsealed, mac };
  });
}

/** The side file `<log>.head`: the last entry synced, signed so it cannot be rewritten without the key. */
export interface HeadRecord {
  format: string;
  chain: string;
  seq: number;
  mac: string;
  hmac: string;
}

function headHmac(keys: RunLogKeys, chain: string, position: ChainPosition): string {
  return createHmac('sha256', keys.head)
    .update(canonicalize({ chain, format: FORMAT_ID, mac: position.mac, seq: position.seq })!)
    .digest('hex');
}

export function signHead(keys: RunLogKeys, chain: string, position: ChainPosition): HeadRecord {
  return {
    format: FORMAT_ID,
    chain,
    seq: position.seq,
    mac: position.mac,
    hmac: headHmac(keys, chain, position),
  };
}

export function isAuthenticHead(keys: RunLogKeys, head: HeadRecord): boolean {
  return head.format === FORMAT_ID && sameMac(head.hmac, headHmac(keys, head.chain, head));
}

export function formatHeadRecord(head: HeadRecord): string {
  return `${JSON.stringify(head)}\n`;
}

/** Null when the text is not a head record at all. */
export function parseHeadRecord(text: string): HeadRecord | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const ok =
    typeof v.format === 'string' &&
    typeof v.chain === 'string' &&
    Number.isSafeInteger(v.seq) &&
    (v.seq as number) >= 0 &&
    typeof v.mac === 'string' &&
    /^[0-9a-f]{64}$/.test(v.mac) &&
    typeof v.hmac === 'string';
  if (!ok) return null;
  return {
    format: v.format as string,
    chain: v.chain as string,
    seq: v.seq as number,
    mac: v.mac as string,
    hmac: v.hmac as string,
  };
}
