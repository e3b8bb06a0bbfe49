import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ContainerFacts,
  type ContainerRules,
  type ContainerState,
  type Decision,
  dockerWillRestart,
  initialState,
  type MonitorInput,
  step,
} from '../../../src/monitor/container-state.js';

const facts: ContainerFacts = {
  id: 'a'.repeat(64),
  name: 'web-1',
  service: 'web',
  environment: 'production',
  hasDockerHealthcheck: false,
  restartPolicy: { name: 'no', maximumRetryCount: 0 },
  restartCount: 0,
  protectedRole: false,
};
const rules: ContainerRules = {
  ownerStopGraceMs: 250,
  recoveryStableMs: 1_000,
  maxRestarts: 5,
  crashLoopWindowMs: 600_000,
};

type Ev = Extract<MonitorInput, { type: 'event' }>;
const ev = (action: Ev['action'], at: number, extra: Partial<Ev> = {}): MonitorInput => ({
  type: 'event',
  action,
  at,
  intended: false,
  ...extra,
});
const tick = (at: number): MonitorInput => ({ type: 'tick', at });

/** Runs inputs through the machine, feeding the ticks it asks for when they fall before the next input. */
function run(
  inputs: MonitorInput[],
  f: ContainerFacts = facts,
  start: ContainerState = initialState('running', 0),
) {
  let state = start;
  const decisions: Decision[] = [];
  let wakeAt: number | null = null;
  for (const input of inputs) {
    if (wakeAt !== null && input.at >= wakeAt && input.type === 'event') {
      const t = step(state, f, tick(wakeAt), rules);
      state = t.state;
      decisions.push(...t.decisions);
    }
    const r = step(state, f, input, rules);
    state = r.state;
    decisions.push(...r.decisions);
    wakeAt = r.wakeAt;
  }
  return { state, decisions, wakeAt };
}
const kinds = (ds: Decision[]) => ds.map((d) => d.kind);

describe('container state: what a sequence of Docker events means', () => {
  const table: Array<{ name: string; inputs: MonitorInput[]; expect: string[]; phase: string }> = [
    {
      name: 'a crash (die alone) is down at once',
      inputs: [ev('die', 100, { exitCode: 1 })],
      expect: ['down'],
      phase: 'down',
    },
    {
      name: 'an OOM kill (oom, die) is down at once',
      inputs: [ev('oom', 100), ev('die', 101, { exitCode: 137 })],
      expect: ['down'],
      phase: 'down',
    },
    {
      name: "an owner's docker stop (kill, die, stop) is stopped_by_owner, not down",
      inputs: [ev('kill', 100, { signal: '15' }), ev('die', 120, { exitCode: 143 }), ev('stop', 127)],
      expect: ['stopped_by_owner'],
      phase: 'stopped',
    },
    {
      name: 'docker rm -f (kill, die, destroy) is stopped_by_owner (removed)',
      inputs: [ev('kill', 100, { signal: '9' }), ev('die', 120, { exitCode: 137 }), ev('destroy', 140)],
      expect: ['stopped_by_owner'],
      phase: 'stopped',
    },
    {
      name: 'docker kill without a stop is down once the grace has passed',
      inputs: [ev('kill', 100, { signal: '9' }), ev('die', 120, { exitCode: 137 }), tick(370)],
      expect: ['down'],
      phase: 'down',
    },
    {
      name: 'a kill whose stop comes too late is down, and the late stop is only noted',
      inputs: [ev('kill', 100), ev('die', 120, { exitCode: 137 }), tick(370), ev('stop', 900)],
      expect: ['down', 'late_stop'],
      phase: 'down',
    },
    {
      name: "Helm's own stop (intended kill, die, stop) raises nothing",
      inputs: [
        ev('kill', 100, { intended: true }),
        ev('die', 120, { intended: true, exitCode: 143 }),
        ev('stop', 127, { intended: true }),
      ],
      expect: ['intended'],
      phase: 'stopped',
    },
    {
      name: "Helm's restart (intended kill, die, stop, start, restart) raises nothing",
      inputs: [
        ev('kill', 100, { intended: true }),
        ev('die', 120, { intended: true, exitCode: 143 }),
        ev('stop', 127, { intended: true }),
        ev('start', 200, { intended: true }),
        ev('restart', 200, { intended: true }),
      ],
      expect: ['intended'],
      phase: 'running',
    },
    {
      name: 'a die that is intended only by its own event (the intent seen at die) raises nothing',
      inputs: [ev('die', 120, { intended: true, exitCode: 1 })],
      expect: ['intended'],
      phase: 'stopped',
    },
    {
      name: 'crash then start: recovered once stable',
      inputs: [ev('die', 100, { exitCode: 1 }), ev('start', 5_000), tick(6_000)],
      expect: ['down', 'recovered'],
      phase: 'running',
    },
    {
      name: 'a crash again within the stability time continues the same incident without a new alert',
      inputs: [
        ev('die', 100, { exitCode: 1 }),
        ev('start', 2_000),
        ev('die', 2_500, { exitCode: 1 }),
        ev('start', 4_000),
        tick(5_000),
      ],
      expect: ['down', 'down', 'recovered'],
      phase: 'running',
    },
    {
      name: 'HEALTHCHECK fails then passes: unhealthy then recovered',
      inputs: [
        ev('health_status', 100, { health: 'unhealthy' }),
        ev('health_status', 900, { health: 'healthy' }),
      ],
      expect: ['unhealthy', 'recovered'],
      phase: 'running',
    },
    {
      name: 'unhealthy during a Helm operation raises nothing',
      inputs: [ev('health_status', 100, { health: 'unhealthy', intended: true })],
      expect: ['intended'],
      phase: 'running',
    },
    {
      name: "health events during Helm's own health gate do not make a later crash look intended",
      inputs: [
        ev('start', 50, { intended: true }),
        ev('health_status', 100, { health: 'unhealthy', intended: true }),
        ev('health_status', 200, { health: 'healthy', intended: true }),
        ev('die', 9_000, { exitCode: 1 }),
      ],
      expect: ['intended', 'down'],
      phase: 'down',
    },
    {
      name: 'an unhealthy container that dies escalates the same incident',
      inputs: [ev('health_status', 100, { health: 'unhealthy' }), ev('die', 500, { exitCode: 1 })],
      expect: ['unhealthy', 'down'],
      phase: 'down',
    },
    {
      name: 'removed while down closes the incident',
      inputs: [ev('die', 100, { exitCode: 1 }), ev('destroy', 500)],
      expect: ['down', 'removed'],
      phase: 'stopped',
    },
    {
      name: 'a stopped container that starts is running, with nothing to recover',
      inputs: [ev('kill', 1), ev('die', 2, { exitCode: 0 }), ev('stop', 3), ev('start', 1_000), tick(5_000)],
      expect: ['stopped_by_owner'],
      phase: 'running',
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const r = run(row.inputs);
      expect(kinds(r.decisions)).toEqual(row.expect);
      expect(r.state.phase).toBe(row.phase);
    });
  }

  it('states the outage start and the outage duration', () => {
    const r = run([ev('die', 1_000, { exitCode: 2 }), ev('start', 4_500), tick(5_500)]);
    const down = r.decisions[0] as Extract<Decision, { kind: 'down' }>;
    const rec = r.decisions[1] as Extract<Decision, { kind: 'recovered' }>;
    expect(down).toMatchObject({ since: 1_000, cause: 'crash', exitCode: 2, alert: true });
    expect(rec).toMatchObject({
      since: 1_000,
      backAt: 4_500,
      outageMs: 3_500,
      incidentKey: down.incidentKey,
    });
  });

  it('asks for a tick at the end of the grace and of the stability time', () => {
    const afterDie = run([ev('kill', 100), ev('die', 120, { exitCode: 137 })]);
    expect(afterDie.wakeAt).toBe(120 + rules.ownerStopGraceMs);
    const afterStart = run([ev('die', 100, { exitCode: 1 }), ev('start', 2_000)]);
    expect(afterStart.wakeAt).toBe(2_000 + rules.recoveryStableMs);
  });

  it('with a HEALTHCHECK, is back only once Docker says healthy (outage until healthy)', () => {
    const f = { ...facts, hasDockerHealthcheck: true };
    const r = run(
      [
        ev('die', 1_000, { exitCode: 1 }),
        ev('start', 2_000),
        tick(10_000),
        ev('health_status', 12_000, { health: 'healthy' }),
        tick(13_000),
      ],
      f,
    );
    expect(kinds(r.decisions)).toEqual(['down', 'recovered']);
    expect(r.decisions[1]).toMatchObject({ backAt: 12_000, outageMs: 11_000 });
  });

  it('raises crash_loop once when crashes exceed maxRestarts within the window', () => {
    const inputs: MonitorInput[] = [];
    for (let i = 0; i < 8; i++) {
      inputs.push(ev('die', i * 1_000 + 100, { exitCode: 1 }), ev('start', i * 1_000 + 500));
    }
    const r = run(inputs);
    expect(r.decisions.filter((d) => d.kind === 'crash_loop')).toHaveLength(1);
    const loop = r.decisions.find((d) => d.kind === 'crash_loop') as Extract<
      Decision,
      { kind: 'crash_loop' }
    >;
    expect(loop.crashesInWindow).toBe(rules.maxRestarts + 1);
    // One incident: only the first down sends an alert.
    expect(r.decisions.filter((d) => d.kind === 'down' && d.alert)).toHaveLength(1);
  });

  it('does not count crashes older than the window', () => {
    const inputs: MonitorInput[] = [];
    for (let i = 0; i < 8; i++) {
      const t = i * 200_000;
      inputs.push(ev('die', t + 100, { exitCode: 1 }), ev('start', t + 500), tick(t + 2_000));
    }
    const r = run(inputs);
    expect(r.decisions.some((d) => d.kind === 'crash_loop')).toBe(false);
  });

  it('a reconciled die goes down at once, even after a kill', () => {
    const r = run([ev('kill', 100), ev('die', 120, { exitCode: 137, reconciled: true })]);
    expect(r.decisions[0]).toMatchObject({ kind: 'down', reconciled: true, cause: 'crash' });
  });
});

interface RandomStep {
  action: Ev['action'];
  gap: number;
  intended: boolean;
  health: string;
  exitCode: number;
  tick: boolean;
}

describe("container state: the monitor's own restart in a crash loop (issue 8, item 5)", () => {
  const own = (at: number, active = true): MonitorInput => ({ type: 'own_restart', at, active });
  const crashed = [ev('die', 100, { exitCode: 3 })];
  /** What Docker sends for a restart that finds the container running. */
  const restartOfRunning = [
    ev('kill', 310, { signal: '15' }),
    ev('die', 330, { exitCode: 143 }),
    ev('stop', 335),
    ev('start', 500),
    ev('restart', 500),
  ];
  const ownerStop = [ev('kill', 800, { signal: '15' }), ev('die', 820, { exitCode: 143 }), ev('stop', 825)];
  const table: Array<{ name: string; inputs: MonitorInput[]; expect: string[]; phase: string }> = [
    {
      name: 'a restart that finds it stopped (start, restart), then the crash: down again, counted',
      inputs: [...crashed, own(300), ev('start', 310), ev('restart', 310), ev('die', 340, { exitCode: 3 })],
      expect: ['down', 'down'],
      phase: 'down',
    },
    {
      name: "a crash that Docker reports before the restart's own restart event is still a crash",
      inputs: [...crashed, own(300), ev('start', 310), ev('die', 311, { exitCode: 3 }), ev('restart', 312)],
      expect: ['down', 'down'],
      phase: 'down',
    },
    {
      name: 'a restart that finds it running (kill, die, stop, start, restart) is never stopped_by_owner',
      inputs: [...crashed, own(300), ...restartOfRunning, ev('die', 530, { exitCode: 3 })],
      expect: ['down', 'intended', 'down'],
      phase: 'down',
    },
    {
      name: 'started again just before the restart reached Docker (start, kill, die, stop, start, restart)',
      inputs: [
        ...crashed,
        own(300),
        ev('start', 305),
        ...restartOfRunning,
        ev('die', 1_300, { exitCode: 3 }),
      ],
      expect: ['down', 'intended', 'down'],
      phase: 'down',
    },
    {
      name: "after the restart ended, the owner's docker stop is stopped_by_owner again",
      inputs: [...crashed, own(300), ev('start', 310), ev('restart', 310), ...ownerStop],
      expect: ['down', 'stopped_by_owner'],
      phase: 'down',
    },
    {
      name: 'a restart called off (busy, running) leaves a later stop to the owner',
      inputs: [...crashed, own(300), own(301, false), ev('start', 400), ...ownerStop],
      expect: ['down', 'stopped_by_owner'],
      phase: 'down',
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const r = run(row.inputs);
      expect(kinds(r.decisions)).toEqual(row.expect);
      expect(r.state.phase).toBe(row.phase);
      expect(r.state.incident).not.toBeNull();
    });
  }

  it("no interleaving of the restart's events with crashes yields stopped_by_owner", () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 4 }), (startedFirst, loops) => {
        const inputs: MonitorInput[] = [...crashed];
        let at = 1_000;
        for (let i = 0; i < loops; i += 1) {
          inputs.push(own(at));
          if (startedFirst) inputs.push(ev('start', at + 1));
          inputs.push(...restartOfRunning.map((e) => ({ ...e, at: e.at + at })));
          inputs.push(ev('die', at + 600, { exitCode: 3 }));
          at += 2_000;
        }
        const r = run(inputs);
        expect(kinds(r.decisions)).not.toContain('stopped_by_owner');
        expect(kinds(r.decisions).filter((k) => k === 'down')).toHaveLength(1 + loops);
      }),
    );
  });
});

describe('container state: properties', () => {
  const action = fc.constantFrom<Ev['action']>(
    'start',
    'restart',
    'kill',
    'oom',
    'die',
    'stop',
    'health_status',
  );
  const inputArb = fc.array(
    fc.record({
      action,
      gap: fc.integer({ min: 0, max: 3_000 }),
      intended: fc.boolean(),
      health: fc.constantFrom('healthy', 'unhealthy', 'starting'),
      exitCode: fc.integer({ min: 0, max: 255 }),
      tick: fc.boolean(),
    }),
    { maxLength: 40 },
  );
  const toInputs = (xs: RandomStep[], allIntended = false): MonitorInput[] => {
    let t = 0;
    const out: MonitorInput[] = [];
    for (const x of xs) {
      t += x.gap;
      out.push(
        x.tick
          ? tick(t)
          : ev(x.action, t, { intended: allIntended || x.intended, health: x.health, exitCode: x.exitCode }),
      );
    }
    return out;
  };

  it('everything under a Helm operation raises no alerting decision', () => {
    fc.assert(
      fc.property(inputArb, (xs) => {
        const r = run(toInputs(xs, true));
        return r.decisions.every((d) => d.kind === 'intended');
      }),
    );
  });

  it('every recovered ends an incident that was opened before, with a non-negative outage', () => {
    fc.assert(
      fc.property(inputArb, (xs) => {
        const r = run(toInputs(xs));
        const opened = new Set<string>();
        for (const d of r.decisions) {
          if (d.kind === 'down' || d.kind === 'unhealthy') opened.add(d.incidentKey);
          if (d.kind === 'recovered') {
            if (!opened.has(d.incidentKey) || d.outageMs < 0) return false;
            opened.delete(d.incidentKey);
          }
        }
        return true;
      }),
    );
  });

  it('one incident sends at most one downtime alert', () => {
    fc.assert(
      fc.property(inputArb, (xs) => {
        const r = run(toInputs(xs));
        const alerted = r.decisions
          .filter((d) => d.kind === 'down' && d.alert)
          .map((d) => (d as { incidentKey: string }).incidentKey);
        return new Set(alerted).size === alerted.length;
      }),
    );
  });

  it("an owner's stop (kill, die, stop within the grace) is never down", () => {
    fc.assert(
      fc.property(inputArb, fc.integer({ min: 0, max: 240 }), (xs, stopAfter) => {
        const before = run(toInputs(xs));
        const t = (before.state.startedAt ?? 0) + 1_000_000;
        const start = before.state;
        const r = run(
          [
            ev('start', t),
            ev('kill', t + 10, { signal: '15' }),
            ev('die', t + 20, { exitCode: 143 }),
            ev('stop', t + 20 + stopAfter),
          ],
          facts,
          start,
        );
        return (
          !r.decisions.some((d) => d.kind === 'down') &&
          r.decisions.some((d) => d.kind === 'stopped_by_owner')
        );
      }),
    );
  });
});

describe("Docker's restart policy (reported, not fought)", () => {
  const cases: Array<[string, number, number, number | null, 'crash' | 'oom' | 'killed', boolean]> = [
    ['no', 0, 0, 1, 'crash', false],
    ['always', 0, 0, 0, 'crash', true],
    ['unless-stopped', 0, 0, 1, 'oom', true],
    ['always', 0, 0, 137, 'killed', false],
    ['on-failure', 0, 7, 1, 'crash', true],
    ['on-failure', 0, 0, 0, 'crash', false],
    ['on-failure', 3, 3, 1, 'crash', false],
    ['on-failure', 3, 2, 1, 'crash', true],
  ];
  for (const [name, max, count, code, cause, expected] of cases) {
    it(`${name} (max ${max}, restarted ${count}), exit ${code}, ${cause} → ${expected}`, () => {
      expect(dockerWillRestart({ name, maximumRetryCount: max }, count, code, cause)).toBe(expected);
    });
  }
});
