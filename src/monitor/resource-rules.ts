/**
 * Resource alerts with hysteresis (pure). A condition fires only once it has held for its window
 * (every sample above the threshold for that long; 0 fires at once), repeats only after the repeat
 * interval while it lasts, and clears only below the threshold minus the hysteresis; the resolved
 * alert carries the value that cleared it.
 */
export interface ResourceRule {
  /** Fires above this (percent). */
  threshold: number;
  /** How long the condition must hold before it fires. */
  windowMs: number;
  /** Clears only below threshold − hysteresis. @defaultValue 5 */
  hysteresis: number;
  /** While it lasts, the alert is sent again after this long. */
  repeatMs: number;
}

export type Metric = 'cpu' | 'memory' | 'disk';

export interface ResourceRules {
  cpu: ResourceRule;
  memory: ResourceRule;
  disk: ResourceRule;
}

const HOUR = 3_600_000;

/** The design card's thresholds: CPU > 85 %, RAM > 85 %, disk > 90 %. */
export const DEFAULT_RESOURCE_RULES: Readonly<ResourceRules> = Object.freeze({
  cpu: { threshold: 85, windowMs: 120_000, hysteresis: 5, repeatMs: HOUR },
  memory: { threshold: 85, windowMs: 120_000, hysteresis: 5, repeatMs: HOUR },
  disk: { threshold: 90, windowMs: 0, hysteresis: 5, repeatMs: HOUR },
});

export type RuleState =
  | { phase: 'ok' }
  /** Above the threshold since `since`, not yet for the whole window. */
  | { phase: 'pending'; since: number }
  | { phase: 'firing'; since: number; lastSentAt: number };

export const RULE_OK: RuleState = Object.freeze({ phase: 'ok' });

export type RuleEmit =
  | { type: 'fire'; value: number; since: number }
  | { type: 'repeat'; value: number; since: number }
  | { type: 'resolve'; value: number; since: number; durationMs: number };

/** What every resource alert's details begin with: the reading (one decimal), the rule, since when, the host. */
export function ruleDetails(emit: RuleEmit, rule: ResourceRule, host: string) {
  return {
    value: Math.round(emit.value * 10) / 10,
    threshold: rule.threshold,
    clear_below: rule.threshold - rule.hysteresis,
    window_ms: rule.windowMs,
    since: new Date(emit.since).toISOString(),
    host,
  };
}

/**
 * Why a reading cannot be true, or null when it can: a resource reading is a finite number between 0
 * and the most the resource allows (`max`: 100 % of the host's CPU, memory or a disk; for a container,
 * its memory limit and, in percent of its CPU allowance, every host CPU busy). The sampler drops the
 * sample that produced an impossible reading (and logs it): it never reaches the rules, an alert or
 * the readings shown to the owner.
 */
export function impossibleReading(value: number, max: number): string | null {
  if (!Number.isFinite(value)) return `${value} is not a reading`;
  if (value < 0) return `${value} % is negative`;
  if (value > max) return `${value} % is above the possible ${Math.round(max * 10) / 10} %`;
  return null;
}

export function evaluateRule(
  state: RuleState,
  value: number,
  now: number,
  rule: ResourceRule,
): { state: RuleState; emit: RuleEmit | null } {
  const above = value > rule.threshold;
  switch (state.phase) {
    case 'ok':
    case 'pending': {
      if (!above) return { state: RULE_OK, emit: null };
      const since = state.phase === 'pending' ? state.since : now;
      if (now - since >= rule.windowMs)
        return { state: { phase: 'firing', since, lastSentAt: now }, emit: { type: 'fire', value, since } };
      return { state: { phase: 'pending', since }, emit: null };
    }
    case 'firing': {
      if (value < rule.threshold - rule.hysteresis)
        return {
          state: RULE_OK,
          emit: { type: 'resolve', value, since: state.since, durationMs: now - state.since },
        };
      if (now - state.lastSentAt >= rule.repeatMs)
        return {
          state: { ...state, lastSentAt: now },
          emit: { type: 'repeat', value, since: state.since },
        };
      return { state, emit: null };
    }
  }
}
