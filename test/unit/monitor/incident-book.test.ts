// What opens, updates and closes one of the monitor's incidents (incident-book.ts), as data: the
// dedup_key is the incident; recovered/resolved with that key close it; facts that are not
// incidents (an owner's stop, a log that grows) never open one.
import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/bus/alert-sender.js';
import {
  EMPTY_INCIDENT_BOOK,
  type IncidentBookState,
  recordAlert,
} from '../../../src/monitor/incident-book.js';

const t = (s: number) => new Date(Date.UTC(2026, 11, 3, 12, 0, s));
const alert = (kind: string, key: string, over: Partial<AlertInput> = {}): AlertInput =>
  ({
    kind,
    severity: 'critical',
    message: `${kind} ${key}`,
    dedup_key: key,
    target: 'web',
    ...over,
  }) as AlertInput;

function run(alerts: Array<[AlertInput, number]>, closedKept?: number): IncidentBookState {
  let book = EMPTY_INCIDENT_BOOK;
  for (const [a, s] of alerts) book = recordAlert(book, a, t(s), closedKept).book;
  return book;
}

describe('the incident book', () => {
  it('opens on an incident alert, keeps its first time through an escalation, closes on its recovery', () => {
    const open = run([
      [alert('unhealthy', 'k1', { environment: 'production' }), 0],
      [alert('downtime', 'k1', { message: 'web is down' }), 5],
    ]);
    expect([...open.open.values()]).toEqual([
      {
        key: 'k1',
        kind: 'downtime',
        severity: 'critical',
        target: 'web',
        environment: null,
        message: 'web is down',
        opened_at: t(0).toISOString(),
        updated_at: t(5).toISOString(),
        closed_at: null,
        closed_by: null,
      },
    ]);
    const { book, changed } = recordAlert(open, alert('recovered', 'k1', { message: 'web is back' }), t(9));
    expect(changed).toBe(true);
    expect(book.open.size).toBe(0);
    expect(book.closed).toMatchObject([
      {
        key: 'k1',
        kind: 'downtime',
        opened_at: t(0).toISOString(),
        closed_at: t(9).toISOString(),
        closed_by: 'web is back',
      },
    ]);
  });

  it('covers host resources and Helm degraded, closed by resolved', () => {
    const book = run([
      [alert('disk_high', 'disk'), 0],
      [alert('helm_degraded', 'queue'), 1],
      [alert('resolved', 'disk'), 2],
    ]);
    expect([...book.open.keys()]).toEqual(['queue']);
    expect(book.closed.map((i) => i.key)).toEqual(['disk']);
  });

  it('ignores facts that are not incidents and closings of unknown incidents', () => {
    for (const a of [alert('stopped_by_owner', 'x'), alert('log_growth', 'y'), alert('recovered', 'z')]) {
      const { book, changed } = recordAlert(EMPTY_INCIDENT_BOOK, a, t(0));
      expect(changed).toBe(false);
      expect(book).toBe(EMPTY_INCIDENT_BOOK);
    }
  });

  it('keeps the last closed incidents only, newest first', () => {
    const alerts: Array<[AlertInput, number]> = [];
    for (let i = 0; i < 5; i++)
      alerts.push([alert('downtime', `k${i}`), i], [alert('recovered', `k${i}`), i]);
    expect(run(alerts, 3).closed.map((i) => i.key)).toEqual(['k4', 'k3', 'k2']);
  });
});
