import { describe, expect, it } from 'vitest';
import { type AutoRestartInput, backoffMs, decideAutoRestart } from '../../../src/monitor/auto-restart.js';

const dev: AutoRestartInput = {
  facts: {
    environment: 'dev',
    restartPolicy: { name: 'no', maximumRetryCount: 0 },
    restartCount: 0,
    protectedRole: false,
  },
  cause: 'crash',
  exitCode: 1,
  crashesInWindow: 1,
  crashLoop: false,
  reconciled: false,
};
const rules = { baseDelayMs: 1_000, maxDelayMs: 60_000 };

describe('dev auto-restart', () => {
  const table: Array<[string, Partial<AutoRestartInput>, string]> = [
    ['a dev crash is restarted', {}, 'restart'],
    ['an OOM-killed dev container is restarted', { cause: 'oom', exitCode: 137 }, 'restart'],
    [
      'production is alerted, never restarted',
      { facts: { ...dev.facts, environment: 'production' } },
      'not_dev',
    ],
    ['staging is alerted, never restarted', { facts: { ...dev.facts, environment: 'staging' } }, 'not_dev'],
    ['a container someone killed is not restarted', { cause: 'killed', exitCode: 137 }, 'not_a_crash'],
    [
      "Docker's own restart policy is left to Docker",
      { facts: { ...dev.facts, restartPolicy: { name: 'always', maximumRetryCount: 0 } } },
      'docker_restarts_it',
    ],
    [
      'on-failure with retries left is left to Docker',
      {
        facts: { ...dev.facts, restartPolicy: { name: 'on-failure', maximumRetryCount: 3 }, restartCount: 1 },
      },
      'docker_restarts_it',
    ],
    [
      'on-failure with its retries used up: Helm restarts',
      {
        facts: { ...dev.facts, restartPolicy: { name: 'on-failure', maximumRetryCount: 3 }, restartCount: 3 },
      },
      'restart',
    ],
    ['a crash loop stops the restarts', { crashLoop: true, crashesInWindow: 6 }, 'crash_loop'],
    [
      'a protected role (helm, bus) is never restarted',
      { facts: { ...dev.facts, protectedRole: true } },
      'protected',
    ],
    [
      'found exited with 0 after the stream was down: may be a stop',
      { reconciled: true, exitCode: 0 },
      'cannot_tell_crash_from_stop',
    ],
    [
      'found exited with 143 after the stream was down: may be a stop',
      { reconciled: true, exitCode: 143 },
      'cannot_tell_crash_from_stop',
    ],
    ['found exited with 1 after the stream was down: a crash', { reconciled: true, exitCode: 1 }, 'restart'],
  ];
  for (const [name, over, expected] of table) {
    it(name, () => {
      const v = decideAutoRestart({ ...dev, ...over }, rules);
      expect(v.action === 'restart' ? 'restart' : v.reason).toBe(expected);
    });
  }

  it('backs off exponentially up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffMs(n, rules))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000,
    ]);
    const v = decideAutoRestart({ ...dev, crashesInWindow: 3 }, rules);
    expect(v).toEqual({ action: 'restart', delayMs: 4_000, attempt: 3 });
  });
});
