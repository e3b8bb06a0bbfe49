import { COMPOSE_STEP } from '../compose/compose-target.js';
import { STEP } from '../steps.js';

/**
 * The first question of every recovery, as a pure decision on facts: what did the interrupted step
 * leave, and what comes next? Every Docker change is announced (its step recorded in the intent)
 * before it is made, so the intent's step says how far the operation may have got, and Docker says
 * whether that step's change was made.
 *
 *  - `resume`: nothing of the service changed. The request is still valid: it runs again from its
 *    start under the same op, the same signed plan (its hash is checked again on what runs now) and
 *    the same approval, which this op already started (single use: no second `executing`).
 *  - `reconcile`: something may have changed: the operation's own recovery completes or undoes it.
 */
export type NextAfterCrash = { next: 'resume'; why: string } | { next: 'reconcile'; why: string };

/** A container that ran before the interrupted release switch, as Docker shows it now. */
export interface ReplacedFacts {
  name: string;
  present: boolean;
  /** Under its own name (not renamed to its kept name). */
  activeName: boolean;
  /** Stopped after the operation began (by it). */
  stoppedByOp: boolean;
}

export interface SwitchCrashFacts {
  step: string;
  /** Containers this operation created (its `helm.op` label). */
  created: number;
  replaced: readonly ReplacedFacts[];
  /** A rollback's kept containers of the target release that run or are out of their kept names. */
  reusedTouched: number;
}

/** The step every intent starts with: written before the operation's first change. */
export const START_STEP = 'start';

/**
 * Steps that change no container of the service (an image pulled or tagged, Helm's compose override
 * written: all idempotent), and the first container change of a switch (the first replaced container
 * stopped, or compose's `up`), whose change Docker shows made or not.
 */
const SWITCH_STEPS_BEFORE_CONTAINERS = new Set<string>([
  START_STEP,
  STEP.pullImage,
  STEP.tagReleaseImage,
  STEP.stopOld,
  // A compose switch: Helm's override pinned (a file the resumed run writes again), then `up`.
  COMPOSE_STEP.pin,
  COMPOSE_STEP.up,
]);

/** For any operation: at `start` nothing was announced, so nothing was changed. */
export function nextAfterCrashAt(step: string): NextAfterCrash | null {
  return step === START_STEP ? { next: 'resume', why: 'the operation had announced no change yet' } : null;
}

/** For a deploy or rollback: resume only when Docker shows every replaced container as it was. */
export function nextAfterSwitchCrash(f: SwitchCrashFacts): NextAfterCrash {
  const atStart = nextAfterCrashAt(f.step);
  if (atStart) return atStart;
  if (!SWITCH_STEPS_BEFORE_CONTAINERS.has(f.step))
    return { next: 'reconcile', why: `step ${f.step} comes after the first container change` };
  if (f.created > 0) return { next: 'reconcile', why: `${f.created} new container(s) exist` };
  if (f.reusedTouched > 0)
    return { next: 'reconcile', why: 'a kept container of the target release was brought back' };
  const touched = f.replaced.find((r) => !r.present || !r.activeName || r.stoppedByOp);
  if (touched)
    return {
      next: 'reconcile',
      why: `${touched.name} is ${!touched.present ? 'gone' : !touched.activeName ? 'renamed' : 'stopped'}`,
    };
  return {
    next: 'resume',
    why: `at ${f.step} Docker shows nothing changed: every replaced container runs as before and nothing new exists`,
  };
}
