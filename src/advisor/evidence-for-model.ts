// The evidence bundle as the text a model reads: Helm's own words, ids and numbers in the clear, every
// string that came from the host (states, log lines, health output, event actions, release facts,
// run-log text) sanitised, redacted and fenced item by item (untrustedForModel). Env names are there,
// env values never (the bundle holds none, and the redactor masks any a container printed). Pure.
import type { EvidenceBundle, ReleaseFacts } from './evidence-bundle.js';
import type { Fence } from './fence-untrusted.js';
import type { ModelRedactor } from './redact-for-model.js';
import { untrustedForModel } from './untrusted-for-model.js';

export function evidenceForModel(
  bundle: EvidenceBundle,
  call: { fence: Fence; redactor: ModelRedactor },
): string {
  const data = (id: string, text: string) => untrustedForModel({ id, text }, call);
  const lines = [
    `Target: ${data('target', bundle.target)} in ${data('environment', bundle.environment)}; incident: ${
      bundle.incidentKind === null ? 'none (deploy review)' : data('incident', bundle.incidentKind)
    }.`,
  ];
  const inspect = bundle.inspect;
  if (!inspect) lines.push('[inspect] not available.');
  else {
    lines.push(
      `[${inspect.id}] status ${data(inspect.id, inspect.status)}, running ${inspect.running}, exit code ${
        inspect.exitCode ?? 'none'
      }, OOMKilled ${inspect.oomKilled}, restart count ${inspect.restartCount}, memory limit ${
        inspect.memoryLimitBytes ? `${inspect.memoryLimitBytes} bytes` : 'none'
      }.`,
    );
    if (inspect.health) {
      lines.push(
        `[${inspect.id}] health ${data(inspect.id, inspect.health.status)}, failing streak ${inspect.health.failingStreak}.`,
      );
      for (const check of inspect.health.log) {
        lines.push(
          `[${inspect.id}] health check exit code ${check.exitCode}: ${data(inspect.id, check.output)}`,
        );
      }
    }
  }
  const stats = bundle.stats;
  if (stats) {
    lines.push(
      `[${stats.id}] CPU ${stats.cpuPercent === null ? 'unknown' : `${stats.cpuPercent.toFixed(1)}% of one core`}, memory ${stats.memoryBytes} of ${stats.memoryLimitBytes} bytes.`,
    );
  }
  lines.push(`Last ${bundle.logs.length} log lines:`);
  for (const log of bundle.logs) lines.push(`[${log.id}] ${data(log.id, log.line)}`);
  lines.push(`Docker events (${bundle.events.length}):`);
  for (const e of bundle.events) {
    const exit = e.exitCode === undefined || e.exitCode === null ? '' : `, exit code ${e.exitCode}`;
    lines.push(`[${e.id}] ${data(e.id, e.action)} at ${data(e.id, e.time)}${exit}`);
  }
  const diff = bundle.releaseDiff;
  if (!diff) lines.push('Releases: none recorded.');
  else {
    lines.push(`[${diff.id}] running release: ${facts(diff.id, diff.running, data)}`);
    lines.push(
      `[${diff.id}] previous release: ${diff.previous ? facts(diff.id, diff.previous, data) : 'none recorded'}`,
    );
  }
  lines.push(`Run-log entries for the target (${bundle.runLog.length}):`);
  for (const r of bundle.runLog) {
    lines.push(`[${r.id}] ${data(r.id, `${r.at} ${r.action} ${r.outcome}: ${r.text}`)}`);
  }
  return lines.join('\n');
}

function facts(id: string, f: ReleaseFacts, data: (id: string, text: string) => string): string {
  return [
    `id ${data(id, f.releaseId)}`,
    `image ${data(id, f.image)}`,
    `env names ${data(id, f.envNames.join(', '))}`,
    `mounts ${data(id, f.mounts.join(', '))}`,
    `ports ${data(id, f.ports.join(', '))}`,
  ].join('; ');
}
