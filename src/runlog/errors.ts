/**
 * The three ways the run log says "no", each named for what the caller does next.
 */

/**
 * The line was not made durable: the caller MUST treat the action as not logged, refuse any mutating
 * action that depends on it, and alert. Appends keep retrying the disk, so a transient cause heals.
 */
export class RunLogUnavailableError extends Error {
  /** The errno-style code of the cause (`ENOSPC`, `EISDIR`, `EIO`, …) or one of ours (`ECLOSED`, `EMOVED`, `ECHANGED`). */
  readonly code: string;

  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
    this.code = code;
  }
}

/** Another process holds the run-log file: use a file of your own (`run_log.<instance>.md`) or stop the other one. */
export class RunLogLockedError extends Error {
  readonly lockPath: string;

  constructor(message: string, lockPath: string) {
    super(message);
    this.name = this.constructor.name;
    this.lockPath = lockPath;
  }
}

/**
 * The existing run log fails verification. Helm refuses to append to it (appending would bury the
 * evidence) and never rewrites or deletes it: a person must look at `problems`.
 */
export class RunLogIntegrityError extends Error {
  readonly path: string;
  readonly problems: readonly { line: number; reason: string }[];

  constructor(path: string, problems: readonly { line: number; reason: string }[]) {
    const first = problems
      .slice(0, 3)
      .map((p) => (p.line > 0 ? `line ${p.line}: ${p.reason}` : p.reason))
      .join('; ');
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
    super(`run log ${path} failed verification, so Helm will not append to it: ${first}${more}`);
    this.name = this.constructor.name;
    this.path = path;
    this.problems = problems;
  }
}

/** The errno-style code of an error, if it has one. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Wraps any failure to reach the disk as RunLogUnavailableError (an existing one passes through). */
export function toUnavailable(error: unknown, path: string): RunLogUnavailableError {
  if (error instanceof RunLogUnavailableError) return error;
  const code = errnoOf(error) ?? 'EUNKNOWN';
  const detail = error instanceof Error ? error.message : String(error);
  return new RunLogUnavailableError(`run log ${path} could not be written (${code}): ${detail}`, code, {
    cause: error,
  });
}
