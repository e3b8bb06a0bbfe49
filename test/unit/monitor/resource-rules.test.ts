import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  evaluateRule,
  type ResourceRule,
  RULE_OK,
  type RuleEmit,
  type RuleState,
} from '../../../src/monitor/resource-rules.js';

const cpu: ResourceRule = { threshold: 85, windowMs: 120_000, hysteresis: 5, repeatMs: 3_600_000 };
const disk: ResourceRule = { threshold: 90, windowMs: 0, hysteresis: 5, repeatMs: 3_600_000 };

/** Samples as [time s, value]; returns the emits as [time s, type, value]. */
function feed(rule: ResourceRule, samples: Array<[number, number]>) {
  let state: RuleState = RULE_OK;
  const out: Array<[number, RuleEmit['type'], number]> = [];
  for (const [t, v] of samples) {
    const r = evaluateRule(state, v, t * 1000, rule);
    state = r.state;
    if (r.emit) out.push([t, r.emit.type, r.emit.value]);
  }
  return { out, state };
}

describe('resource rules with hysteresis', () => {
  it('a single spike raises nothing', () => {
    expect(
      feed(cpu, [
        [0, 50],
        [15, 99],
        [30, 50],
        [45, 60],
      ]).out,
    ).toEqual([]);
  });
  it('a sustained breach fires once, when it has held for the window', () => {
    const samples: Array<[number, number]> = [];
    for (let t = 0; t <= 600; t += 15) samples.push([t, 92]);
    expect(feed(cpu, samples).out).toEqual([[120, 'fire', 92]]);
  });
  it('a dip below the threshold restarts the window', () => {
    expect(
      feed(cpu, [
        [0, 90],
        [60, 90],
        [75, 80],
        [90, 90],
        [195, 90],
        [210, 90],
      ]).out,
    ).toEqual([[210, 'fire', 90]]);
  });
  it('repeats only after the repeat interval while it lasts', () => {
    const rule = { ...cpu, repeatMs: 600_000 };
    const samples: Array<[number, number]> = [];
    for (let t = 0; t <= 1500; t += 15) samples.push([t, 95]);
    expect(feed(rule, samples).out).toEqual([
      [120, 'fire', 95],
      [720, 'repeat', 95],
      [1320, 'repeat', 95],
    ]);
  });
  it('clears only below threshold minus hysteresis, and the resolved emit carries the value', () => {
    expect(
      feed(cpu, [
        [0, 90],
        [120, 90],
        [135, 84],
        [150, 81],
        [165, 80],
        [180, 79.5],
      ]).out,
    ).toEqual([
      [120, 'fire', 90],
      [180, 'resolve', 79.5],
    ]);
  });
  it('disk fires at once (window 0)', () => {
    expect(
      feed(disk, [
        [0, 50],
        [15, 91],
      ]).out,
    ).toEqual([[15, 'fire', 91]]);
  });
  it('exactly at the threshold is not above it', () => {
    expect(feed(disk, [[0, 90]]).out).toEqual([]);
  });

  it('never fires unless every sample of the window was above the threshold', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 60 }), fc.float({ min: 0, max: 100, noNaN: true })), {
          maxLength: 60,
        }),
        (steps) => {
          let t = 0;
          const samples: Array<[number, number]> = steps.map(([gap, v]) => {
            t += gap;
            return [t, v];
          });
          const { out } = feed(cpu, samples);
          for (const [at, type] of out) {
            if (type !== 'fire') continue;
            // Held for the window: the latest sample at least a window before `at`, and every sample
            // since, were above the threshold.
            const anchor = samples.filter(([s]) => s <= at - cpu.windowMs / 1000).at(-1);
            if (!anchor) return false;
            if (!samples.filter(([s]) => s >= anchor[0] && s <= at).every(([, v]) => v > cpu.threshold))
              return false;
          }
          return true;
        },
      ),
    );
  });

  it('fire and resolve alternate, and resolve is always below the lower threshold', () => {
    fc.assert(
      fc.property(fc.array(fc.float({ min: 0, max: 100, noNaN: true }), { maxLength: 80 }), (values) => {
        const { out } = feed(
          disk,
          values.map((v, i) => [i * 15, v]),
        );
        let firing = false;
        for (const [, type, value] of out) {
          if (type === 'fire') {
            if (firing) return false;
            firing = true;
          } else if (type === 'resolve') {
            if (!firing || value >= disk.threshold - disk.hysteresis) return false;
            firing = false;
          } else if (!firing) return false;
        }
        return true;
      }),
    );
  });
});
