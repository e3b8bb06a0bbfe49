import { pino, type DestinationStream, type Logger } from 'pino';
import { escapeLogLine } from './escape-log-line.js';
import type { Redactor } from './redactor.js';
import {
  createRotatingFileStream,
  type RotatingFileOptions,
  type RotatingFileStream,
} from './rotating-file.js';

export type { Logger } from 'pino';

/**
 * Fields that never reach a log line, whatever their value: credentials by name, and set_env's
 * inline values (plain configuration, but kept out of logs by field as the contract says).
 */
export const REDACT_PATHS = [
  'anthropicApiKey',
  '*.anthropicApiKey',
  'password',
  '*.password',
  'auth',
  '*.auth',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'params.set',
  '*.params.set',
  'request.params.set',
  'data.params.set',
  'desired.set',
  '*.desired.set',
  'plan.desired.set',
];

export interface LoggerOptions {
  level: string;
  redactor: Redactor;
  /** Where the JSON lines go; stdout by default. Tests pass a sink and read the lines back. */
  destination?: DestinationStream;
  base?: Record<string, unknown>;
  /**
   * Also write the lines to this size-rotated file (HELM_LOG_FILE, HELM_LOG_ROTATE_MB,
   * HELM_LOG_RETENTION_FILES); rotated files are deleted only under an explicit `retentionFiles`.
   */
  file?: RotatingFileOptions;
}

/** The logger, and the rotating file when one was asked for (close it at shutdown to finish compression). */
export function makeLogger(opts: LoggerOptions): Logger {
  return makeLoggerWithFile(opts).logger;
}

export function makeLoggerWithFile(opts: LoggerOptions): { logger: Logger; file: RotatingFileStream | null } {
  const primary = opts.destination ?? pino.destination({ dest: 1, sync: false });
  // The file's own failures go to the primary stream: a log that cannot be written must not stop Helm.
  const file = opts.file
    ? createRotatingFileStream({
        ...opts.file,
        onError:
          opts.file.onError ??
          ((error) =>
            primary.write(
              escapeLogLine(
                `${JSON.stringify({ level: 40, time: new Date().toISOString(), name: 'helm', msg: 'log file error', err: String(error) })}\n`,
              ),
            )),
      })
    : null;
  const logger = pino(
    {
      level: opts.level,
      base: { name: 'helm', ...opts.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Redaction by value runs on the finished line, so no field or nesting can smuggle a secret out;
      // then the run log's escaping, so no raw control or bidi character reaches stdout or the file.
      hooks: { streamWrite: (line: string) => escapeLogLine(opts.redactor.redact(line)) },
    },
    file
      ? pino.multistream([
          { stream: primary, level: 'trace' },
          { stream: file, level: 'trace' },
        ])
      : primary,
  );
  return { logger, file };
}
