/** One run of `fn` at a time: a call while one runs shares that run (the watches' periodic syncs). */
export function singleFlight(fn: () => Promise<void>): {
  run(): Promise<void>;
  current(): Promise<void> | null;
} {
  let current: Promise<void> | null = null;
  return {
    run() {
      current ??= fn().finally(() => {
        current = null;
      });
      return current;
    },
    current: () => current,
  };
}
