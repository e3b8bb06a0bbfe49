import { MAX_DATA_BYTES } from './action-types.js';

// Room for the envelope around the list (its key, truncated, the host's figures for stats).
const ENVELOPE_RESERVE = 8 * 1024;

/** The first items that fit in the contract's 64 KiB with room for the envelope, and whether any were cut. */
export function keepFirstWithin<T>(items: readonly T[]): { kept: T[]; truncated: boolean } {
  const budget = MAX_DATA_BYTES - ENVELOPE_RESERVE;
  let used = 0;
  let end = 0;
  while (end < items.length) {
    const size = Buffer.byteLength(JSON.stringify(items[end])) + 1;
    if (used + size > budget) break;
    used += size;
    end += 1;
  }
  return { kept: items.slice(0, end), truncated: end < items.length };
}

export function containers(n: number): string {
  return n === 1 ? '1 container' : `${n} containers`;
}
