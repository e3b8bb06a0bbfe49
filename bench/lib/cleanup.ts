/**
 * A bench run's cleanup steps, run in reverse at the end, on failure, and on SIGINT/SIGTERM (then the
 * process exits 130). A step that fails is reported and the others still run.
 */
export function cleanupOnExit(progress: (msg: string) => void): {
  steps: Array<() => Promise<unknown>>;
  run(): Promise<void>;
} {
  const steps: Array<() => Promise<unknown>> = [];
  const run = async () => {
    for (const fn of steps.splice(0).reverse())
      await fn().catch((err: unknown) => progress(`cleanup step failed: ${(err as Error).message}`));
  };
  const onSignal = () => void run().finally(() => process.exit(130));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { steps, run };
}
