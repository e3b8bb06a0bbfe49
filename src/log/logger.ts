import { pino, type DestinationStream, type Logger } from 'pino';
import type { Redactor } from './redactor.js';

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
}

export function makeLogger(opts: LoggerOptions): Logger {
  return pino(
    {
      level: opts.level,
      base: { name: 'helm', ...opts.base },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Redaction by value runs on the finished line, so no field or nesting can smuggle a secret out.
      hooks: { streamWrite: (line: string) => opts.redactor.redact(line) },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: false }),
  );
}
