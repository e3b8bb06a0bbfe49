import { oneLine } from './output.js';

/**
 * A long wait (a request until its final result, a deploy parked for Warden) as people and scripts
 * want it: on a terminal one line rewritten every second with the elapsed time and the latest
 * status; piped, plain lines, one per progress report, nothing rewritten. Written to stderr: stdout
 * holds the result.
 */
export interface ProgressSink {
  /** A progress report from the bus (the latest ActionResult). */
  update(progress: unknown): void;
  /** The wait is over: a terminal's line is cleared. */
  stop(): void;
}

const CLEAR_LINE = '\r\u001b[2K';

/** `45s`, `2m05s`, `1h02m`. */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The terminal's line: elapsed time, then the latest status and outcome when there is one. */
export function progressLine(label: string, elapsedMs: number, latest: unknown): string {
  const r = (latest ?? {}) as { status?: unknown; outcome?: unknown };
  const status = typeof r.status === 'string' ? `: ${r.status}` : '';
  const outcome = typeof r.outcome === 'string' && r.outcome ? ` (${oneLine(r.outcome)})` : '';
  return `${label} ${formatElapsed(elapsedMs)}${status}${outcome}`;
}

export function startProgress(opts: {
  label: string;
  terminal: boolean;
  write: (text: string) => void;
  now?: () => number;
  intervalMs?: number;
}): ProgressSink {
  const now = opts.now ?? Date.now;
  const started = now();
  if (!opts.terminal) {
    return {
      update: (p) => opts.write(`progress: ${JSON.stringify(p)}\n`),
      stop: () => undefined,
    };
  }
  let latest: unknown;
  const draw = () => opts.write(`${CLEAR_LINE}${progressLine(opts.label, now() - started, latest)}`);
  const timer = setInterval(draw, opts.intervalMs ?? 1000);
  timer.unref();
  draw();
  return {
    update: (p) => {
      latest = p;
      draw();
    },
    stop: () => {
      clearInterval(timer);
      opts.write(CLEAR_LINE);
    },
  };
}
