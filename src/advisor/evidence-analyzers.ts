// Helm's own analyzers (k8sgpt's "analyzers first"): the obvious causes named from the evidence bundle
// without any model, each citing the evidence ids it rests on, and the deterministic summary that
// stands alone when no model answers. Pure. Untrusted text (log lines, health output) is matched, never
// quoted: what these functions write holds only Helm's words, numbers, and names that passed the
// contract's name patterns.
import { escapeText } from '../contracts/escape-text.js';
import { ENV_NAME_PATTERN, TARGET_PATTERN, takeCodePoints } from '../contracts/index.js';
import type { EvidenceBundle, ReleaseFacts } from './evidence-bundle.js';

export const ANALYZER_CAUSES = [
  'oom_killed',
  'sigkill',
  'port_in_use',
  'missing_env',
  'health_never_passed',
] as const;
export type AnalyzerCause = (typeof ANALYZER_CAUSES)[number];

export interface AnalyzerFinding {
  cause: AnalyzerCause;
  statement: string;
  evidence_ids: string[];
}

/** At most this many log lines or run-log entries cited for one finding. */
const MAX_CITED = 5;
const MAX_NAMES_SHOWN = 10;

const PORT_IN_USE = /address already in use|EADDRINUSE|port is already allocated/i;
/** A port number after a colon ("0.0.0.0:8080", "[::]:443"), read as digits only. */
const PORT_NUMBER = /:(\d{1,5})\b/;

export function analyzeEvidence(bundle: EvidenceBundle): AnalyzerFinding[] {
  return [...memoryKill(bundle), ...portInUse(bundle), ...missingEnv(bundle), ...healthNeverPassed(bundle)];
}

function memoryKill({ target, inspect, events }: EvidenceBundle): AnalyzerFinding[] {
  const oomEvents = events.filter((e) => e.action === 'oom').map((e) => e.id);
  const killed137 = inspect?.exitCode === 137;
  if (inspect && (inspect.oomKilled || (killed137 && oomEvents.length > 0))) {
    const limit = inspect.memoryLimitBytes ? ` (memory limit ${formatBytes(inspect.memoryLimitBytes)})` : '';
    return [
      {
        cause: 'oom_killed',
        statement: `${show(target)} was killed for running out of memory: exit code ${inspect.exitCode ?? 'unknown'}, OOMKilled${limit}.`,
        evidence_ids: [inspect.id, ...oomEvents.slice(0, MAX_CITED)],
      },
    ];
  }
  if (inspect && killed137) {
    return [
      {
        cause: 'sigkill',
        statement: `${show(target)} was killed with SIGKILL (exit code 137), not for memory: a docker kill, or a stop that outlived its timeout.`,
        evidence_ids: [inspect.id],
      },
    ];
  }
  return [];
}

function portInUse({ target, logs, runLog }: EvidenceBundle): AnalyzerFinding[] {
  const hits = [
    ...logs.filter((l) => PORT_IN_USE.test(l.line)).map((l) => ({ id: l.id, text: l.line })),
    ...runLog.filter((r) => PORT_IN_USE.test(r.text)).map((r) => ({ id: r.id, text: r.text })),
  ];
  if (hits.length === 0) return [];
  const port = hits
    .map((h) => PORT_NUMBER.exec(h.text)?.[1])
    .find((p) => p !== undefined && Number(p) <= 65_535);
  return [
    {
      cause: 'port_in_use',
      statement: `A port ${show(target)} needs${port ? ` (${port})` : ''} is already bound by something else ("address already in use").`,
      evidence_ids: hits.slice(0, MAX_CITED).map((h) => h.id),
    },
  ];
}

function missingEnv({ target, releaseDiff }: EvidenceBundle): AnalyzerFinding[] {
  if (!releaseDiff?.previous) return [];
  const running = new Set(releaseDiff.running.envNames);
  const missing = releaseDiff.previous.envNames.filter((name) => !running.has(name));
  if (missing.length === 0) return [];
  return [
    {
      cause: 'missing_env',
      statement: `The running release of ${show(target)} lacks env ${missing.length === 1 ? 'name' : 'names'} the previous release had: ${names(missing, ENV_NAME_PATTERN)}.`,
      evidence_ids: [releaseDiff.id],
    },
  ];
}

function healthNeverPassed({ target, inspect }: EvidenceBundle): AnalyzerFinding[] {
  const health = inspect?.health;
  if (!inspect || !health || health.status === 'healthy' || health.log.length === 0) return [];
  if (health.log.some((entry) => entry.exitCode === 0)) return [];
  const n = health.log.length;
  return [
    {
      cause: 'health_never_passed',
      statement: `The health check of ${show(target)} never passed: ${n === 1 ? 'the one recorded check' : `all ${n} recorded checks`} failed (status ${show(health.status)}, failing streak ${health.failingStreak}).`,
      evidence_ids: [inspect.id],
    },
  ];
}

/**
 * The summary Helm sends when no model answers (and attaches when one does): the container's state,
 * the causes found above, what changed since the previous release, and how much evidence there is.
 */
export function summariseEvidence(bundle: EvidenceBundle): string {
  const lines = [
    `${show(bundle.target)} (${show(bundle.environment)})${bundle.incidentKind ? `, incident ${show(bundle.incidentKind)}` : ''}.`,
    stateLine(bundle),
  ];
  const findings = analyzeEvidence(bundle);
  if (findings.length === 0) lines.push("Helm's analyzers found no obvious cause.");
  else {
    lines.push("Causes Helm's analyzers found:");
    for (const f of findings) lines.push(`- ${f.statement} [${f.evidence_ids.map(show).join(', ')}]`);
  }
  lines.push(releaseLine(bundle));
  lines.push(
    `Evidence: ${count(bundle.logs.length, 'log line')}, ${count(bundle.events.length, 'Docker event')}, ${count(bundle.runLog.length, 'run-log entry', 'run-log entries')}.`,
  );
  return lines.join('\n');
}

function stateLine({ inspect }: EvidenceBundle): string {
  if (!inspect) return 'Container state: unknown (Helm could not inspect it).';
  const parts = [`${show(inspect.status)}`];
  if (inspect.exitCode !== null && !inspect.running) parts.push(`exit code ${inspect.exitCode}`);
  if (inspect.oomKilled) parts.push('OOM killed');
  parts.push(`restarted ${count(inspect.restartCount, 'time')}`);
  parts.push(inspect.health ? `health ${show(inspect.health.status)}` : 'no health check');
  return `Container state: ${parts.join(', ')}.`;
}

function releaseLine({ releaseDiff }: EvidenceBundle): string {
  if (!releaseDiff) return 'Releases: none recorded.';
  const { running, previous } = releaseDiff;
  if (!previous) return `Release ${show(running.releaseId)}; no previous release recorded.`;
  const changes = [
    running.image === previous.image ? null : `image ${show(previous.image)} → ${show(running.image)}`,
    setChange('env names', previous.envNames, running.envNames, ENV_NAME_PATTERN),
    setChange('mounts', previous.mounts, running.mounts),
    setChange('ports', previous.ports, running.ports),
  ].filter((c): c is string => c !== null);
  const between = `${show(previous.releaseId)} → ${show(running.releaseId)}`;
  return changes.length === 0
    ? `Release ${between}: no change in image, env names, mounts or ports.`
    : `Release ${between}: ${changes.join('; ')}.`;
}

function setChange(
  what: string,
  before: ReleaseFacts['mounts'],
  after: ReleaseFacts['mounts'],
  pattern?: RegExp,
): string | null {
  const added = after.filter((x) => !before.includes(x));
  const removed = before.filter((x) => !after.includes(x));
  if (added.length === 0 && removed.length === 0) return null;
  const parts = [
    added.length > 0 ? `added ${names(added, pattern)}` : null,
    removed.length > 0 ? `removed ${names(removed, pattern)}` : null,
  ].filter((p) => p !== null);
  return `${what} ${parts.join(', ')}`;
}

/** Names as a list; with a pattern, names that do not match it are only counted (they may be hostile). */
function names(list: readonly string[], pattern?: RegExp): string {
  const shown = (pattern ? list.filter((n) => pattern.test(n)) : list).slice(0, MAX_NAMES_SHOWN);
  const rest = list.length - shown.length;
  const restText = rest === 0 ? '' : shown.length > 0 ? ` and ${rest} more` : `${rest} (not shown)`;
  return `${shown.map(show).join(', ')}${restText}`;
}

/** A value from Docker or a label as one escaped line, cut: it can neither forge a line nor run long. */
function show(value: string): string {
  return TARGET_PATTERN.test(value) ? value : escapeText(takeCodePoints(value, 120), 'terminal');
}

function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${Math.round(mib)} MiB`;
}
