import { demuxDockerLogs, type LogLine } from '../docker/logs-demux.js';
import { type ActionHandler, MAX_DATA_BYTES } from './action-types.js';

/** The contract's default and maximum tail. */
export const DEFAULT_TAIL = 200;
/** One line longer than this is cut, so a single runaway line cannot crowd out all others. */
export const MAX_LINE_CHARS = 8 * 1024;
// Room for the envelope ({"lines":[…],"truncated":…,"containers":[…]}) inside the 64 KiB cap.
const ENVELOPE_RESERVE = 4 * 1024;

/** A safe read: the tail of every container's logs, stdout and stderr, secrets redacted, newest kept. */
export const logs: ActionHandler = async ({ request, service, docker, redactor }) => {
  const params = (request.params ?? {}) as { tail?: number; since?: string };
  const tail = params.tail ?? DEFAULT_TAIL;
  const since = params.since ? Math.floor(Date.parse(params.since) / 1000) : undefined;

  const perContainer = await Promise.all(
    service.containers.map(async (c) => {
      const { bytes, tty } = await docker.containerLogs(c.id, {
        tail,
        ...(since !== undefined ? { since } : {}),
      });
      return demuxDockerLogs(bytes, tty, c.name);
    }),
  );
  const merged = mergeByTime(perContainer).map((l) => ({ ...l, text: cutLine(redactor.redact(l.text)) }));
  const { lines, truncated } = keepNewestWithin(merged, MAX_DATA_BYTES - ENVELOPE_RESERVE);
  const names = service.containers.map((c) => c.name);
  return {
    ok: true,
    outcome: `${lines.length} log ${lines.length === 1 ? 'line' : 'lines'} of ${service.name} (${names.join(', ')})${truncated ? ', older lines cut to fit 64 KiB' : ''}`,
    data: { lines, truncated, containers: names },
  };
};

/** Lines of several replicas interleaved by their Docker timestamps; stable within one container. */
export function mergeByTime(groups: LogLine[][]): LogLine[] {
  if (groups.length === 1) return groups[0]!;
  return groups
    .flatMap((g, gi) => g.map((l, i) => ({ l, gi, i })))
    .sort((a, b) => (a.l.at ?? '').localeCompare(b.l.at ?? '') || a.gi - b.gi || a.i - b.i)
    .map((x) => x.l);
}

export function keepNewestWithin(
  lines: LogLine[],
  budgetBytes: number,
): { lines: LogLine[]; truncated: boolean } {
  let used = 0;
  let start = lines.length;
  while (start > 0) {
    const size = Buffer.byteLength(JSON.stringify(lines[start - 1])) + 1;
    if (used + size > budgetBytes) break;
    used += size;
    start -= 1;
  }
  return { lines: lines.slice(start), truncated: start > 0 };
}

function cutLine(text: string): string {
  if (text.length <= MAX_LINE_CHARS) return text;
  // Cut by code points so a surrogate pair is never split into a lone half.
  return `${Array.from(text).slice(0, MAX_LINE_CHARS).join('')}… [line cut]`;
}
