/** Time comes in through this so tests can drive it (alert windows, expiry, run-log stamps). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: for pure-logic tests of windows and deadlines. */
export function makeManualClock(start = new Date('2026-01-01T00:00:00.000Z')): Clock & {
  advance(ms: number): void;
  set(at: Date): void;
} {
  let t = start.getTime();
  return {
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
    set(at: Date) {
      t = at.getTime();
    },
  };
}
