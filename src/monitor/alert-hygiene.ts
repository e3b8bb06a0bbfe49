import type { AlertInput } from '../bus/alert-sender.js';

/**
 * Alert hygiene for container incidents (pure; time comes in with each call):
 * - one alert per incident: an incident's alerts share its dedup_key, and an escalation (unhealthy
 *   that dies, a crash loop) reuses it;
 * - while an incident lasts, its alert is sent again only after `repeatMs`;
 * - a storm is grouped: within `groupWindowMs`, the first `groupAfter` incidents go out one by one
 *   at once (a single failure is never delayed) and the rest are held and sent as ONE alert at the
 *   end of the window; their recoveries end that group alert once all of them are back.
 * Alerts of other kinds (stopped_by_owner, resources, helm_degraded, …) pass straight through.
 */
export interface HygieneRules {
  /** @defaultValue 3_600_000 (1 hour) */
  repeatMs: number;
  /** @defaultValue 2_000 */
  groupWindowMs: number;
  /** Incidents sent one by one within a window before the rest are grouped. @defaultValue 3 */
  groupAfter: number;
}

export const DEFAULT_HYGIENE_RULES: Readonly<HygieneRules> = Object.freeze({
  repeatMs: 3_600_000,
  groupWindowMs: 2_000,
  groupAfter: 3,
});

export interface AlertHygiene {
  /** What to send now for this alert (nothing, it, or something standing for it). */
  offer(alert: AlertInput, now: number): AlertInput[];
  /** Group flushes and repeats that are due. */
  tick(now: number): AlertInput[];
  /** When tick has something to do next, or null. */
  nextWakeAt(): number | null;
  /** dedup_keys of incidents open now (grouped members included). */
  openKeys(): string[];
}

const OPENING = new Set(['downtime', 'unhealthy', 'crash_loop']);
const GROUPABLE = new Set(['downtime', 'unhealthy']);
const CLOSING = new Set(['recovered', 'resolved']);
const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;
const MAX_LISTED = 100;

interface OpenEntry {
  alert: AlertInput;
  lastSentAt: number;
  repeats: number;
  group: string | null;
}

interface Group {
  key: string;
  start: number;
  members: Map<string, AlertInput>;
  sent: AlertInput | null;
  lastSentAt: number;
  repeats: number;
}

export function makeAlertHygiene(
  rules: HygieneRules = DEFAULT_HYGIENE_RULES,
  /** Makes group keys unique across Helm instances, e.g. `downtime:group:<host>`. */
  groupKeyPrefix = 'downtime:group',
): AlertHygiene {
  const open = new Map<string, OpenEntry>();
  const groups = new Map<string, Group>();
  let window: { start: number; count: number } | null = null;
  let pending: Group | null = null;

  function offer(alert: AlertInput, now: number): AlertInput[] {
    const key = alert.dedup_key;
    if (CLOSING.has(alert.kind)) {
      const entry = open.get(key);
      if (!entry) return [alert];
      open.delete(key);
      if (!entry.group) return [alert];
      if (pending?.key === entry.group) {
        pending.members.delete(key); // never alerted on its own: nothing to end
        return [];
      }
      const group = groups.get(entry.group);
      if (!group) return [];
      group.members.delete(key);
      if (group.members.size > 0) return [];
      groups.delete(group.key);
      return group.sent ? [groupRecovered(group, alert)] : [];
    }
    if (!OPENING.has(alert.kind)) return [alert];

    const entry = open.get(key);
    if (entry) {
      // An escalation of an open incident: same key, sent at once unless a group stands for it.
      entry.alert = alert;
      if (entry.group) return [];
      entry.lastSentAt = now;
      return [alert];
    }
    if (GROUPABLE.has(alert.kind)) {
      if (!window || now - window.start >= rules.groupWindowMs) window = { start: now, count: 0 };
      window.count += 1;
      if (window.count > rules.groupAfter) {
        pending ??= {
          key: `${groupKeyPrefix}:${window.start}`,
          start: window.start,
          members: new Map(),
          sent: null,
          lastSentAt: now,
          repeats: 0,
        };
        pending.members.set(key, alert);
        open.set(key, { alert, lastSentAt: now, repeats: 0, group: pending.key });
        return [];
      }
    }
    open.set(key, { alert, lastSentAt: now, repeats: 0, group: null });
    return [alert];
  }

  function tick(now: number): AlertInput[] {
    const out: AlertInput[] = [];
    if (pending && now >= pending.start + rules.groupWindowMs) {
      const group = pending;
      pending = null;
      if (group.members.size > 0) {
        group.sent = groupAlert(group, rules);
        group.lastSentAt = now;
        groups.set(group.key, group);
        out.push(group.sent);
      }
    }
    for (const entry of open.values()) {
      if (entry.group || now - entry.lastSentAt < rules.repeatMs) continue;
      entry.lastSentAt = now;
      entry.repeats += 1;
      out.push(repeated(entry.alert, entry.repeats));
    }
    for (const group of groups.values()) {
      if (!group.sent || now - group.lastSentAt < rules.repeatMs) continue;
      group.lastSentAt = now;
      group.repeats += 1;
      group.sent = groupAlert(group, rules);
      out.push(repeated(group.sent, group.repeats));
    }
    return out;
  }

  function nextWakeAt(): number | null {
    const times: number[] = [];
    if (pending) times.push(pending.start + rules.groupWindowMs);
    for (const entry of open.values()) if (!entry.group) times.push(entry.lastSentAt + rules.repeatMs);
    for (const group of groups.values()) times.push(group.lastSentAt + rules.repeatMs);
    return times.length > 0 ? Math.min(...times) : null;
  }

  return { offer, tick, nextWakeAt, openKeys: () => [...open.keys()] };
}

function groupAlert(group: Group, rules: HygieneRules): AlertInput {
  const members = [...group.members.values()];
  const severity = members.reduce<AlertInput['severity']>(
    (worst, m) => (SEVERITY_RANK[m.severity] > SEVERITY_RANK[worst] ? m.severity : worst),
    'info',
  );
  const kind = members.some((m) => m.kind === 'downtime') ? 'downtime' : 'unhealthy';
  const envs = new Set(members.map((m) => m.environment));
  const names = members.slice(0, 20).map((m) => `${m.target ?? m.dedup_key.split(':')[1]} (${m.kind})`);
  const more = members.length > names.length ? ` and ${members.length - names.length} more` : '';
  const env = envs.size === 1 ? members[0]?.environment : undefined;
  return {
    severity,
    kind,
    ...(env ? { environment: env } : {}),
    message:
      `${members.length} more managed containers failed within ${Math.round(rules.groupWindowMs / 100) / 10} s ` +
      `(the first ${rules.groupAfter} were alerted one by one): ${names.join(', ')}${more}`,
    details: {
      grouped: members.length,
      incidents: members.slice(0, MAX_LISTED).map((m) => ({
        dedup_key: m.dedup_key,
        kind: m.kind,
        severity: m.severity,
        ...(m.target ? { target: m.target } : {}),
        ...(m.environment ? { environment: m.environment } : {}),
        message: m.message.slice(0, 300),
      })),
    },
    dedup_key: group.key,
  };
}

function groupRecovered(group: Group, last: AlertInput): AlertInput {
  return {
    severity: 'info',
    kind: 'recovered',
    ...(group.sent?.environment ? { environment: group.sent.environment } : {}),
    message:
      `all ${String(group.sent?.details?.['grouped'] ?? '')} grouped containers are back (last: ${last.message})`.slice(
        0,
        2000,
      ),
    details: { grouped: group.sent?.details?.['grouped'] ?? null, last: last.details ?? null },
    dedup_key: group.key,
  };
}

function repeated(alert: AlertInput, repeats: number): AlertInput {
  return {
    ...alert,
    message: `still ongoing: ${alert.message}`.slice(0, 2000),
    details: { ...(alert.details ?? {}), repeat: repeats },
  };
}
