import { type ContainerFacts, type DownCause, dockerWillRestart } from './container-state.js';

/**
 * The dev auto-restart rule (pure): the design card lets Helm restart a crashed dev container on its
 * own. Only a crash counts (die alone, or an OOM kill): a container someone killed or stopped, or that
 * Helm itself is changing, is never restarted; neither is anything in staging or production (alerted
 * only), a protected role, or a container Docker restarts itself (its own restart policy is reported,
 * not fought). Restarts back off exponentially; a crash loop stops them.
 */
export interface AutoRestartRules {
  /** The first restart waits this long; each further crash in the window doubles it. @defaultValue 1000 */
  baseDelayMs: number;
  /** @defaultValue 60_000 */
  maxDelayMs: number;
}

export const DEFAULT_AUTO_RESTART_RULES: Readonly<AutoRestartRules> = Object.freeze({
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
});

export type AutoRestartVerdict =
  | { action: 'restart'; delayMs: number; attempt: number }
  | {
      action: 'none';
      reason:
        | 'not_dev'
        | 'not_a_crash'
        | 'docker_restarts_it'
        | 'crash_loop'
        | 'protected'
        | 'cannot_tell_crash_from_stop'
        /** This Helm runs with a read-only Docker (or without leases): it restarts nothing. */
        | 'read_only';
    };

export interface AutoRestartInput {
  facts: Pick<ContainerFacts, 'environment' | 'restartPolicy' | 'restartCount' | 'protectedRole'>;
  cause: DownCause;
  exitCode: number | null;
  /** Crashes within the crash-loop window, this one included. */
  crashesInWindow: number;
  /** The state machine raised crash_loop for this incident. */
  crashLoop: boolean;
  /** Found by a reconcile after the stream was down, not seen as it happened. */
  reconciled: boolean;
}

/** Exit codes a stop on purpose usually leaves (0, SIGTERM 143, SIGKILL 137). */
const STOP_LIKE_EXIT_CODES = new Set([0, 137, 143]);

export function decideAutoRestart(
  input: AutoRestartInput,
  rules: AutoRestartRules = DEFAULT_AUTO_RESTART_RULES,
): AutoRestartVerdict {
  const { facts } = input;
  if (facts.environment !== 'dev') return { action: 'none', reason: 'not_dev' };
  if (input.cause === 'killed') return { action: 'none', reason: 'not_a_crash' };
  if (facts.protectedRole) return { action: 'none', reason: 'protected' };
  if (dockerWillRestart(facts.restartPolicy, facts.restartCount, input.exitCode, input.cause))
    return { action: 'none', reason: 'docker_restarts_it' };
  if (input.crashLoop) return { action: 'none', reason: 'crash_loop' };
  // Seen only after the fact, a die cannot be told from an owner's stop unless its exit says crash:
  // default is no.
  if (
    input.reconciled &&
    input.cause !== 'oom' &&
    (input.exitCode === null || STOP_LIKE_EXIT_CODES.has(input.exitCode))
  )
    return { action: 'none', reason: 'cannot_tell_crash_from_stop' };
  const attempt = Math.max(1, input.crashesInWindow);
  return { action: 'restart', delayMs: backoffMs(attempt, rules), attempt };
}

/** base · 2^(attempt−1), capped at maxDelayMs. */
export function backoffMs(attempt: number, rules: AutoRestartRules = DEFAULT_AUTO_RESTART_RULES): number {
  const exp = Math.min(30, Math.max(0, attempt - 1));
  return Math.min(rules.maxDelayMs, rules.baseDelayMs * 2 ** exp);
}
