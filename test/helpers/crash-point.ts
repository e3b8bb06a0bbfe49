/**
 * The fault hook of the executor's crash tests (test/integration/executor/crash-matrix.test.ts), kept
 * out of src: Helm itself only offers a generic observer (`onStepRecorded`, called right after the
 * write-ahead intent recorded a step), and helm-crash-entry.ts starts a real Helm process with this
 * hook as that observer, so a test can kill -9 it at an exact step of an operation. These
 * environment variables are read here and nowhere else:
 *
 * - `HELM_TEST_CRASH_AT_STEP=<step>`: the step name (src/executor/steps.ts, or `start` for the
 *   intent's first write) at which the process kills itself with SIGKILL, right after the
 *   write-ahead intent recorded that step (so before the Docker change the step announces).
 * - `HELM_TEST_CRASH_OCCURRENCE=<n>` (default 1): the n-th time that step is recorded.
 * - `HELM_TEST_CRASH_DELAY_MS=<ms>` (default 0): kill this long after the step was recorded instead
 *   of at once, to land in the middle of what follows (e.g. `start_new` + 600 ms: during the health
 *   check of a started container).
 *
 * SIGKILL, not an exception: nothing of Helm's own gets to run (no finally, no lease release, no
 * intent removal), exactly as with `kill -9` from outside.
 */
export interface CrashPoint {
  step: string;
  occurrence: number;
  delayMs: number;
}

/** The crash point the environment asks for, or null (the normal case: the hook does nothing). */
export function crashPointFrom(env: NodeJS.ProcessEnv): CrashPoint | null {
  const step = env['HELM_TEST_CRASH_AT_STEP']?.trim();
  if (!step) return null;
  const occurrence = Number(env['HELM_TEST_CRASH_OCCURRENCE'] ?? '1');
  const delayMs = Number(env['HELM_TEST_CRASH_DELAY_MS'] ?? '0');
  return {
    step,
    occurrence: Number.isInteger(occurrence) && occurrence >= 1 ? occurrence : 1,
    delayMs: Number.isFinite(delayMs) && delayMs > 0 ? Math.floor(delayMs) : 0,
  };
}

/**
 * The observer Helm calls right after the intent recorded `step`: it kills this process when `step`
 * is the crash point's step, the occurrence-th time it is recorded.
 */
export function crashHook(point: CrashPoint): (step: string) => void {
  let seen = 0;
  return (step) => {
    if (step !== point.step) return;
    seen += 1;
    if (seen !== point.occurrence) return;
    const kill = () => process.kill(process.pid, 'SIGKILL');
    if (point.delayMs === 0) kill();
    else setTimeout(kill, point.delayMs);
  };
}
