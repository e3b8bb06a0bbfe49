import { demuxDockerLogs, type LogLine } from '../docker/logs-demux.js';
import type { ExecContext } from './exec-context.js';

export const LAST_LOG_LINES = 50;
const MAX_LINE_CHARS = 2_000;

/**
 * The last lines a failed container wrote, redacted, for the failed result and Sentinel's alert.
 * Never throws: a container whose logs cannot be read gives one line saying so.
 */
export async function lastLogs(
  ctx: Pick<ExecContext, 'docker' | 'redactor'>,
  id: string,
  name: string,
  tail = LAST_LOG_LINES,
): Promise<LogLine[]> {
  try {
    const { bytes, tty } = await ctx.docker.containerLogs(id, { tail });
    return demuxDockerLogs(bytes, tty, name).map((l) => ({ ...l, text: cut(ctx.redactor.redact(l.text)) }));
  } catch (err) {
    return [
      { container: name, stream: 'stderr', at: null, text: `(logs unavailable: ${(err as Error).message})` },
    ];
  }
}

function cut(text: string): string {
  return text.length <= MAX_LINE_CHARS
    ? text
    : `${Array.from(text).slice(0, MAX_LINE_CHARS).join('')}… [line cut]`;
}
