import { open, stat } from 'node:fs/promises';
import {
  type ChainPosition,
  deriveRunLogKeys,
  genesisMac,
  type HeadRecord,
  isAuthenticHead,
  type RunLogKeys,
  sameMac,
} from '../runlog/chain.js';
import { readHeadRecord } from '../runlog/head-file.js';
import { parseEntryLine, parseHeader, renderHeader } from '../runlog/line-format.js';
import { compareMerged, type MergedRunLogEntry, type MergedRunLogs } from '../runlog/merge.js';
import { listRunLogChains, type RunLogChainFiles } from '../runlog/rotation.js';
import { verifyRunLog } from '../runlog/verify.js';
import { verifyRunLogChain } from '../runlog/verify-chain.js';

/**
 * The run log as the status page shows it, without re-reading and re-verifying every file on each
 * refresh. Per chain (one per live file) it keeps what the last verification established: the live
 * file's identity (device and inode), the byte offset verified up to, the bytes of the last verified
 * line, and where the chain stood there (seq and mac); the rotated files' names, sizes, inodes and
 * change times. A refresh then reads only what was appended, checks that the last verified line is
 * still where it was, and verifies the new lines chained on from that mac, with the head record. Any
 * doubt is settled by verifying the chain in full (runlog/verify-chain.ts), the same check `helm log`
 * makes: a new, rotated, replaced or truncated file, an incomplete last line, a new line or a head
 * record that does not verify (so a tampered entry shows as broken on every refresh), a chain that
 * had problems, and every `fullEveryMs` anyway (an edit inside the verified prefix shows then).
 */
export interface RunLogView extends MergedRunLogs {
  /** How each chain was read this time, by live file name (tests, the bench). */
  modes: Record<string, 'full' | 'appended'>;
}

interface Verified {
  rotated: string;
  dev: number;
  ino: number;
  offset: number;
  lastLine: Buffer;
  chainId: string;
  end: ChainPosition;
  /** The macs of the last verified positions by seq: the head record lags behind the last line. */
  recent: Map<number, string>;
  entries: MergedRunLogEntry[];
  files: string[];
  fullAt: number;
}

export interface RunLogViewOptions {
  /** Entries kept per chain (the page shows the newest of them). */
  keepEntries: number;
  /** @defaultValue 300_000 */
  fullEveryMs?: number;
  now?: () => number;
}

/** How far behind the last line the head record may pin and still be checked without a full read. */
const RECENT_POSITIONS = 1024;

interface Ctx {
  dir: string;
  key: Buffer;
  keys: RunLogKeys;
  keep: number;
  fullEveryMs: number;
  now: () => number;
  cache: Map<string, Verified>;
}

export function makeRunLogView(
  dir: string,
  key: Buffer,
  options: RunLogViewOptions,
): () => Promise<RunLogView> {
  const ctx: Ctx = {
    dir,
    key,
    keys: deriveRunLogKeys(key),
    keep: options.keepEntries,
    fullEveryMs: options.fullEveryMs ?? 300_000,
    now: options.now ?? Date.now,
    cache: new Map(),
  };
  // One read at a time: each one builds on what the one before cached.
  let last: Promise<unknown> = Promise.resolve();
  return () => {
    const next = last.then(
      () => readAll(ctx),
      () => readAll(ctx),
    );
    last = next.catch(() => undefined);
    return next;
  };
}

async function readAll(ctx: Ctx): Promise<RunLogView> {
  const modes: RunLogView['modes'] = {};
  const chains = await listRunLogChains(ctx.dir);
  for (const name of ctx.cache.keys()) if (!chains.some((c) => c.liveName === name)) ctx.cache.delete(name);
  const results = [];
  for (const chain of chains) results.push(await readChain(ctx, chain, modes));
  const entries = results.flatMap((r) => r.entries).sort(compareMerged);
  return {
    ok: results.every((r) => r.ok),
    files: results.flatMap((r) => r.files),
    entries: entries.slice(-ctx.keep),
    problems: results.flatMap((r) => r.problems),
    modes,
  };
}

async function readChain(
  ctx: Ctx,
  chain: RunLogChainFiles,
  modes: RunLogView['modes'],
): Promise<MergedRunLogs> {
  const rotated = await rotatedIdentity(chain);
  const was = ctx.cache.get(chain.liveName);
  const live = chain.livePath ? await stat(chain.livePath).catch(() => null) : null;
  const fresh =
    was &&
    live &&
    was.rotated === rotated &&
    was.dev === live.dev &&
    was.ino === live.ino &&
    live.size >= was.offset &&
    ctx.now() - was.fullAt < ctx.fullEveryMs;
  if (fresh) {
    const result = await appended(ctx, chain, was);
    if (result) {
      modes[chain.liveName] = 'appended';
      return result;
    }
  }
  modes[chain.liveName] = 'full';
  return full(ctx, chain, rotated);
}

/** The whole chain verified as `helm log` does; cached when it verified and the live file held still. */
async function full(ctx: Ctx, chain: RunLogChainFiles, rotated: string): Promise<MergedRunLogs> {
  ctx.cache.delete(chain.liveName);
  const before = chain.livePath ? await readLive(chain.livePath) : null;
  const result = await verifyRunLogChain(ctx.dir, ctx.key, chain.liveName);
  const entries = result.entries.slice(-ctx.keep);
  const merged = { ok: result.ok, files: result.files, entries, problems: result.problems };
  if (!result.ok || !before || !result.end) return merged;
  const last = lastLineOf(before.bytes, chain.liveName, result.entries, result.end, ctx.keys);
  // An append between the read above and the verification's own read: not cached, verified in full next time.
  if (!last) return merged;
  ctx.cache.set(chain.liveName, {
    rotated,
    dev: before.dev,
    ino: before.ino,
    offset: before.bytes.length,
    lastLine: last.line,
    chainId: last.chainId,
    end: result.end,
    recent: recentPositions(new Map(), [last.start, ...result.entries]),
    entries,
    files: result.files,
    fullAt: ctx.now(),
  });
  return merged;
}

/** Only what was appended, chained on from the cached mac; null when anything is in doubt. */
async function appended(ctx: Ctx, chain: RunLogChainFiles, was: Verified): Promise<MergedRunLogs | null> {
  const path = chain.livePath!;
  const bytes = await readFrom(path, was.offset - was.lastLine.length);
  if (!bytes || bytes.length < was.lastLine.length) return null;
  if (!bytes.subarray(0, was.lastLine.length).equals(was.lastLine)) return null;
  const added = bytes.subarray(was.lastLine.length);
  if (added.length > 0 && added[added.length - 1] !== 0x0a) return null;
  // The new lines as a file that continues the verified prefix: the same check, from the same mac.
  const text = renderHeader(was.chainId, was.end.seq + 1, was.end.mac) + added.toString('utf8');
  const result = verifyRunLog(text, ctx.key);
  if (!result.ok || !result.end) return null;
  const recent = recentPositions(new Map(was.recent), result.entries);
  if (!headPins(ctx.keys, await readHeadRecord(path), was.chainId, result.end, recent)) return null;
  const lines = added.length > 0 ? added.subarray(0, -1).toString('utf8').split('\n') : [];
  const entries = [...was.entries, ...result.entries.map((e) => ({ ...e, file: chain.liveName }))].slice(
    -ctx.keep,
  );
  ctx.cache.set(chain.liveName, {
    ...was,
    offset: was.offset + added.length,
    lastLine: lines.length > 0 ? Buffer.from(`${lines[lines.length - 1]}\n`, 'utf8') : was.lastLine,
    end: result.end,
    recent,
    entries,
  });
  return { ok: true, files: was.files, entries, problems: [] };
}

/**
 * The head record's check (runlog/verify.ts checkHead) against the positions kept: authentic, of this
 * chain, not past the last line, and pinning a line that is there. Anything else is left to the full
 * verification, which says what is wrong.
 */
function headPins(
  keys: RunLogKeys,
  head: HeadRecord | null | { unreadable: string },
  chainId: string,
  end: ChainPosition,
  recent: ReadonlyMap<number, string>,
): boolean {
  if (head === null || 'unreadable' in head) return false;
  if (!isAuthenticHead(keys, head) || head.chain !== chainId || head.seq > end.seq) return false;
  const pinned = recent.get(head.seq);
  return pinned !== undefined && sameMac(pinned, head.mac);
}

function recentPositions(map: Map<number, string>, positions: readonly ChainPosition[]): Map<number, string> {
  for (const p of positions) map.set(p.seq, p.mac);
  for (const seq of map.keys()) {
    if (map.size <= RECENT_POSITIONS) break;
    map.delete(seq);
  }
  return map;
}

/** The rotated files as they are on disk: a renamed, rewritten, added or removed one changes it. */
async function rotatedIdentity(chain: RunLogChainFiles): Promise<string> {
  const parts: string[] = [];
  for (const segment of chain.rotated) {
    const s = await stat(segment.path).catch(() => null);
    parts.push(s ? `${segment.name}:${s.dev}:${s.ino}:${s.size}:${s.ctimeMs}` : `${segment.name}:gone`);
  }
  return parts.join('|');
}

async function readLive(path: string): Promise<{ bytes: Buffer; dev: number; ino: number } | null> {
  try {
    const handle = await open(path, 'r');
    try {
      const s = await handle.stat();
      return { bytes: (await handle.readFile()) as Buffer, dev: s.dev, ino: s.ino };
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

async function readFrom(path: string, from: number): Promise<Buffer | null> {
  try {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      const buffer = Buffer.alloc(Math.max(0, size - from));
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch {
    return null;
  }
}

/**
 * The live file's last line (with its newline) when the bytes read end exactly where the verified
 * chain ends: the last entry verified is that line, or the file is its header alone.
 */
function lastLineOf(
  bytes: Buffer,
  liveName: string,
  entries: readonly MergedRunLogEntry[],
  end: ChainPosition,
  keys: RunLogKeys,
): { line: Buffer; chainId: string; start: ChainPosition } | null {
  const text = bytes.toString('utf8');
  const header = parseHeader(text);
  if (!header.ok || !text.endsWith('\n')) return null;
  const chainId = header.chainId;
  const start = {
    seq: header.firstSeq - 1,
    mac: header.previousMac ?? genesisMac(keys, chainId, header.firstSeq),
  };
  const liveEntries = entries.filter((e) => e.file === liveName);
  if (liveEntries.length === 0) {
    return text.length === header.length ? { line: Buffer.from('\n'), chainId, start } : null;
  }
  const line = text.slice(text.lastIndexOf('\n', text.length - 2) + 1, -1);
  const parsed = parseEntryLine(line);
  if (!parsed.ok || parsed.entry.seq !== end.seq || parsed.entry.mac !== end.mac) return null;
  return { line: Buffer.from(`${line}\n`, 'utf8'), chainId, start };
}
