import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/bus/alert-sender.js';
import { makeAlertHygiene } from '../../../src/monitor/alert-hygiene.js';

const rules = { repeatMs: 60_000, groupWindowMs: 2_000, groupAfter: 3 };
const down = (n: number, severity: AlertInput['severity'] = 'critical'): AlertInput => ({
  severity,
  kind: 'downtime',
  target: `svc${n}`,
  environment: 'production',
  message: `svc${n} is down`,
  dedup_key: `downtime:svc${n}:${n}`,
});
const recovered = (n: number): AlertInput => ({
  severity: 'info',
  kind: 'recovered',
  target: `svc${n}`,
  message: `svc${n} is back`,
  dedup_key: `downtime:svc${n}:${n}`,
});

describe('alert hygiene', () => {
  it('sends a single incident at once, and its recovery', () => {
    const h = makeAlertHygiene(rules);
    expect(h.offer(down(1), 0)).toEqual([down(1)]);
    expect(h.offer(recovered(1), 500)).toEqual([recovered(1)]);
    expect(h.openKeys()).toEqual([]);
  });

  it('repeats an open incident only after the repeat interval, with the same dedup_key', () => {
    const h = makeAlertHygiene(rules);
    h.offer(down(1), 0);
    expect(h.tick(59_999)).toEqual([]);
    const again = h.tick(60_000);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ dedup_key: 'downtime:svc1:1', details: { repeat: 1 } });
    expect(again[0]?.message).toMatch(/^still ongoing: /);
    expect(h.tick(100_000)).toEqual([]);
    expect(h.nextWakeAt()).toBe(120_000);
    h.offer(recovered(1), 110_000);
    expect(h.tick(200_000)).toEqual([]);
  });

  it('an escalation of an open incident goes out at once with the same key', () => {
    const h = makeAlertHygiene(rules);
    h.offer({ ...down(1), kind: 'unhealthy' }, 0);
    expect(h.offer(down(1), 10)).toEqual([down(1)]);
    expect(h.offer({ ...down(1), kind: 'crash_loop' }, 20)).toHaveLength(1);
  });

  it('a storm of fifty is three alerts and ONE group alert; their recoveries end the group once', () => {
    const h = makeAlertHygiene(rules, 'downtime:group:host1');
    const sent: AlertInput[] = [];
    for (let i = 0; i < 50; i++) sent.push(...h.offer(down(i, i === 40 ? 'critical' : 'warning'), i * 10));
    expect(sent.map((a) => a.dedup_key)).toEqual(['downtime:svc0:0', 'downtime:svc1:1', 'downtime:svc2:2']);
    expect(h.tick(1_999)).toEqual([]);
    const group = h.tick(2_000);
    expect(group).toHaveLength(1);
    expect(group[0]).toMatchObject({
      kind: 'downtime',
      severity: 'critical',
      environment: 'production',
      dedup_key: 'downtime:group:host1:0',
      details: { grouped: 47 },
    });
    const after: AlertInput[] = [];
    for (let i = 3; i < 50; i++) after.push(...h.offer(recovered(i), 5_000 + i));
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ kind: 'recovered', dedup_key: 'downtime:group:host1:0' });
    expect(h.offer(recovered(0), 6_000)).toEqual([recovered(0)]);
  });

  it('a member that recovers before the group is sent is never mentioned', () => {
    const h = makeAlertHygiene(rules);
    for (let i = 0; i < 5; i++) h.offer(down(i), i);
    expect(h.offer(recovered(4), 100)).toEqual([]);
    const group = h.tick(2_000);
    expect(group[0]?.details).toMatchObject({ grouped: 1 });
  });

  it('failures further apart than the window are each sent on their own', () => {
    const h = makeAlertHygiene(rules);
    const sent = [0, 2_500, 5_000, 7_500, 10_000].flatMap((t, i) => h.offer(down(i), t));
    expect(sent).toHaveLength(5);
  });

  it('passes other kinds through untouched', () => {
    const h = makeAlertHygiene(rules);
    const info: AlertInput = { severity: 'info', kind: 'stopped_by_owner', message: 'x', dedup_key: 'k' };
    expect(h.offer(info, 0)).toEqual([info]);
    expect(h.offer(info, 1)).toEqual([info]);
    expect(h.openKeys()).toEqual([]);
  });
});
