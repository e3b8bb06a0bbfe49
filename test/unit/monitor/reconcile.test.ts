import { describe, expect, it } from 'vitest';
import { type Known, type Observed, reconcileInputs } from '../../../src/monitor/reconcile.js';

const seen = (over: Partial<Observed> = {}): Observed => ({
  id: 'c1',
  running: true,
  health: null,
  startedAt: 1_000,
  finishedAt: null,
  restartCount: 0,
  exitCode: null,
  oomKilled: false,
  ...over,
});
const known = (over: Partial<Known> = {}): Known => ({
  phase: 'running',
  lastStartedAt: 1_000,
  restartCount: 0,
  ...over,
});
const opts = { now: 50_000, intended: false, blindSince: 20_000 };
const actions = (xs: ReturnType<typeof reconcileInputs>) =>
  xs.map((x) => (x.type === 'event' ? `${x.action}@${x.at}${x.health ? `:${x.health}` : ''}` : 'tick'));

describe('reconcile after the events stream was down', () => {
  it('nothing changed: nothing', () => {
    expect(reconcileInputs(known(), seen(), opts)).toEqual([]);
  });
  it('died while nobody listened: a die at FinishedAt with its exit code', () => {
    const r = reconcileInputs(known(), seen({ running: false, finishedAt: 30_000, exitCode: 1 }), opts);
    expect(actions(r)).toEqual(['die@30000']);
    expect(r[0]).toMatchObject({ exitCode: 1, reconciled: true });
  });
  it('OOM-killed meanwhile: oom then die', () => {
    const r = reconcileInputs(
      known(),
      seen({ running: false, finishedAt: 30_000, exitCode: 137, oomKilled: true }),
      opts,
    );
    expect(actions(r)).toEqual(['oom@30000', 'die@30000']);
  });
  it('died AND was restarted meanwhile (new StartedAt): die at FinishedAt, start at StartedAt', () => {
    const r = reconcileInputs(
      known({ restartCount: 0 }),
      seen({ startedAt: 31_000, finishedAt: 30_000, restartCount: 1 }),
      opts,
    );
    expect(actions(r)).toEqual(['die@30000', 'start@31000']);
  });
  it('was down and is running again: a start', () => {
    expect(actions(reconcileInputs(known({ phase: 'down' }), seen({ startedAt: 40_000 }), opts))).toEqual([
      'start@40000',
    ]);
  });
  it('was stopped on purpose and is still stopped: nothing', () => {
    expect(
      reconcileInputs(known({ phase: 'stopped' }), seen({ running: false, finishedAt: 900 }), opts),
    ).toEqual([]);
  });
  it('turned unhealthy meanwhile', () => {
    expect(actions(reconcileInputs(known(), seen({ health: 'unhealthy' }), opts))).toEqual([
      'health_status@50000:unhealthy',
    ]);
  });
  it('healthy again meanwhile', () => {
    expect(
      actions(reconcileInputs(known({ phase: 'unhealthy' }), seen({ health: 'healthy' }), opts)),
    ).toEqual(['health_status@50000:healthy']);
  });
  it('gone meanwhile: destroy', () => {
    expect(actions(reconcileInputs(known(), undefined, opts))).toEqual(['destroy@50000']);
  });
  it('new, running: a start; new and exited after the stream was lost: start and die', () => {
    expect(actions(reconcileInputs(undefined, seen({ startedAt: 25_000 }), opts))).toEqual(['start@25000']);
    expect(
      actions(
        reconcileInputs(
          undefined,
          seen({ running: false, startedAt: 25_000, finishedAt: 26_000, exitCode: 2 }),
          opts,
        ),
      ),
    ).toEqual(['start@25000', 'die@26000']);
  });
  it('at start-up (no blind time), a stopped container is only noted', () => {
    expect(
      reconcileInputs(undefined, seen({ running: false, startedAt: 25_000, finishedAt: 26_000 }), {
        ...opts,
        blindSince: null,
      }),
    ).toEqual([]);
  });
  it('passes intended through', () => {
    const r = reconcileInputs(known(), seen({ running: false, finishedAt: 30_000 }), {
      ...opts,
      intended: true,
    });
    expect(r[0]).toMatchObject({ intended: true });
  });
});
