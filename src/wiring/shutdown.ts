import type { Logger } from '../log/logger.js';

/** A process's shutdown: steps registered while it starts, run in reverse (last started, first stopped). */
export interface Shutdown {
  onClose(step: () => Promise<void> | void): void;
  /** Runs every step once, each failure logged and passed over, then flushes the logger. */
  close(): Promise<void>;
}

export function makeShutdown(logger: Logger): Shutdown {
  const steps: Array<() => Promise<void> | void> = [];
  return {
    onClose: (step) => {
      steps.push(step);
    },
    async close() {
      for (const fn of steps.reverse())
        await Promise.resolve(fn()).catch((err) => logger.warn({ err }, 'shutdown step failed'));
      logger.flush?.();
    },
  };
}
