import { escapeText } from '../contracts/escape-text.js';
import { RequestTimeoutError } from './request-command.js';

/**
 * What every verb prints, decided in one place so scripts can rely on it:
 * - with `--json`, stdout holds exactly one JSON document (one line), also when the verb fails; a
 *   failure's document has `error: { code, message }` (a failed ActionResult already has it);
 * - a failure is also one line on stderr, `helm: <message>`, and a non-zero exit code.
 */
export interface CliErrorBody {
  code: string;
  message: string;
}

/** What a verb prints and how it exits. */
export interface VerbOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

/** A failure a verb reports as such: its code (stable, for scripts), message and exit code. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** One JSON document on one line. */
export function jsonDocument(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}

/** Messages may quote a container or Redis: one line, control characters escaped. */
export function oneLine(text: string): string {
  return escapeText(text.replace(/\s*[\r\n]+\s*/g, ' ').trim());
}

/** Any thrown value as the error body scripts read; unknown errors are `internal`. */
export function errorBody(err: unknown): CliErrorBody {
  if (err instanceof CliError) return { code: err.code, message: oneLine(err.message) };
  if (err instanceof RequestTimeoutError) return { code: 'timeout', message: oneLine(err.message) };
  // ioredis gave up on a command: Redis did not answer (a verb with its own listener says more).
  if (err instanceof Error && err.name === 'MaxRetriesPerRequestError')
    return { code: 'redis_unavailable', message: `Redis does not answer (${oneLine(err.message)})` };
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return {
    code: typeof code === 'string' && /^[a-z_]+$/.test(code) ? code : 'internal',
    message: oneLine(message),
  };
}

/** What a failed verb writes: the stderr line always, the JSON document with --json. */
export function describeFailure(err: unknown, json: boolean): VerbOutput {
  const error = errorBody(err);
  return {
    stdout: json ? jsonDocument({ error }) : '',
    stderr: `helm: ${error.message}\n`,
    exitCode: err instanceof CliError ? err.exitCode : 1,
  };
}
