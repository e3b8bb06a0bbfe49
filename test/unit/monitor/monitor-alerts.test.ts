import { describe, expect, it } from 'vitest';
import { AlertSchema } from '../../../src/contracts/index.js';
import { EVENT_PATTERN } from '../../../src/runlog/index.js';
import type { ContainerFacts, Decision } from '../../../src/monitor/container-state.js';
import {
  alertForDecision,
  formatDuration,
  incidentSeverity,
  logEntryForDecision,
} from '../../../src/monitor/monitor-alerts.js';

const facts = (environment: ContainerFacts['environment']): ContainerFacts => ({
  id: 'b'.repeat(64),
  name: 'shop-web-1',
  service: 'web',
  environment,
  hasDockerHealthcheck: false,
  restartPolicy: { name: 'no', maximumRetryCount: 0 },
  restartCount: 0,
  protectedRole: false,
});
const key = 'downtime:web:bbbbbbbbbbbb:1000';
const decisions: Decision[] = [
  {
    kind: 'down',
    cause: 'crash',
    exitCode: 1,
    since: 1000,
    incidentKey: key,
    continued: false,
    alert: true,
    crashesInWindow: 1,
    reconciled: false,
  },
  {
    kind: 'down',
    cause: 'killed',
    exitCode: 137,
    since: 1000,
    incidentKey: key,
    continued: false,
    alert: true,
    crashesInWindow: 1,
    reconciled: false,
  },
  {
    kind: 'down',
    cause: 'oom',
    exitCode: 137,
    since: 1000,
    incidentKey: key,
    continued: true,
    alert: false,
    crashesInWindow: 2,
    reconciled: false,
  },
  { kind: 'unhealthy', since: 1000, incidentKey: 'unhealthy:web:bbbbbbbbbbbb:1000' },
  { kind: 'recovered', incidentKey: key, opened: 'downtime', since: 1000, backAt: 13_500, outageMs: 12_500 },
  { kind: 'crash_loop', incidentKey: key, crashesInWindow: 6, since: 1000 },
  { kind: 'stopped_by_owner', at: 5000, exitCode: 143, removed: false },
  { kind: 'removed', incidentKey: key, intended: false, at: 9000 },
  { kind: 'intended', action: 'die', at: 100 },
  { kind: 'late_stop', at: 100 },
];

describe('monitor alerts and run-log entries', () => {
  for (const env of ['production', 'staging', 'dev'] as const) {
    it(`every alert in ${env} holds to the contract's Alert schema`, () => {
      for (const d of decisions) {
        const alert = alertForDecision(d, { facts: facts(env) });
        if (!alert) continue;
        const parsed = AlertSchema.safeParse({
          ...alert,
          alert_id: crypto.randomUUID(),
          at: new Date().toISOString(),
        });
        expect(parsed.success, `${d.kind}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
      }
    });
  }
  it('downtime and unhealthy are critical in production, warning in staging, info in dev', () => {
    expect(['production', 'staging', 'dev'].map((e) => incidentSeverity(e as 'dev'))).toEqual([
      'critical',
      'warning',
      'info',
    ]);
    expect(alertForDecision(decisions[0]!, { facts: facts('production') })).toMatchObject({
      kind: 'downtime',
      severity: 'critical',
      dedup_key: key,
      target: 'web',
    });
    expect(alertForDecision(decisions[3]!, { facts: facts('staging') })).toMatchObject({
      kind: 'unhealthy',
      severity: 'warning',
    });
  });
  it('a recovered alert carries the incident key and the outage duration', () => {
    const a = alertForDecision(decisions[4]!, { facts: facts('production') });
    expect(a).toMatchObject({
      kind: 'recovered',
      severity: 'info',
      dedup_key: key,
      details: { outage_ms: 12_500 },
    });
    expect(a?.message).toContain('back after 12.5 s');
  });
  it('a continued crash sends nothing (the incident is open); intended and late stops send nothing', () => {
    expect(alertForDecision(decisions[2]!, { facts: facts('dev') })).toBeNull();
    expect(alertForDecision(decisions[8]!, { facts: facts('dev') })).toBeNull();
    expect(alertForDecision(decisions[9]!, { facts: facts('dev') })).toBeNull();
  });
  it('says what Helm does about a dev crash', () => {
    const a = alertForDecision(decisions[0]!, {
      facts: facts('dev'),
      restart: { action: 'restart', delayMs: 2000, attempt: 2 },
    });
    expect(a?.message).toMatch(/Helm restarts it in 2 s/);
    const p = alertForDecision(decisions[0]!, {
      facts: facts('production'),
      restart: { action: 'none', reason: 'not_dev' },
    });
    expect(p?.message).toMatch(/does not restart production/);
    const docker = alertForDecision(decisions[0]!, {
      facts: { ...facts('dev'), restartPolicy: { name: 'always', maximumRetryCount: 0 } },
      restart: { action: 'none', reason: 'docker_restarts_it' },
    });
    expect(docker?.message).toMatch(/Docker's restart policy \(always\) restarts it/);
  });
  it('omits a target that is not a valid target name', () => {
    const a = alertForDecision(decisions[0]!, { facts: { ...facts('dev'), service: 'bad name!' } });
    expect(a?.target).toBeUndefined();
  });
  it('every decision has a run-log entry with a valid event name', () => {
    for (const d of decisions) {
      const e = logEntryForDecision(d, { facts: facts('production') });
      expect(e.event).toMatch(EVENT_PATTERN);
      expect(e.message.length).toBeGreaterThan(0);
    }
  });
  it('formats durations for people', () => {
    expect([1234, 59_999, 61_000, 3_725_000].map(formatDuration)).toEqual([
      '1.2 s',
      '60 s',
      '1 min 1 s',
      '1 h 2 min',
    ]);
  });
});
