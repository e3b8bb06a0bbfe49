// A diagnoser on the real pieces: gatherEvidence against the real engine, the real Ollama and
// Anthropic clients against loopback fakes through the real fallback chain, and recorders for the
// alerts sent and the requests submitted (or the caller's own submit port).
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeIncidentDiagnoser } from '../../../src/advisor/diagnose-incident.js';
import { advisorHealthAlerts, type AlertToSend } from '../../../src/advisor/model-runner.js';
import { systemClock } from '../../../src/base/clock.js';
import type { ActionRequest, Alert } from '../../../src/contracts/index.js';
import { makeDockerEvidenceReads } from '../../../src/docker/dockerode-evidence.js';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import { ModelChain } from '../../../src/models/model-call.js';
import { gatherEvidence } from '../../../src/observe/gather-evidence.js';
import { makeReleaseStore } from '../../../src/releases/release-store.js';
import { mergeRunLogs } from '../../../src/runlog/index.js';
import type { FakeAnthropic } from '../../helpers/fake-anthropic.js';
import type { FakeOllama } from '../../helpers/fake-ollama.js';
import { anthropicClient, capturedLogger, ollamaClient, started } from './advisor-harness.js';

const KEY = Buffer.alloc(32, 0x3c);

export interface DiagnoserRig {
  diagnoser: ReturnType<typeof makeIncidentDiagnoser>;
  alerts: AlertToSend[];
  submitted: ActionRequest[];
  logLines: string[];
}

export async function diagnoserRig(o: {
  ollama: FakeOllama;
  anthropic: FakeAnthropic;
  apiKey?: string | null;
  secretValues?: string[];
  submit?: (request: ActionRequest) => Promise<unknown>;
}): Promise<DiagnoserRig> {
  await started(o.ollama);
  await started(o.anthropic);
  const { logger, lines } = capturedLogger();
  const alerts: AlertToSend[] = [];
  const submitted: ActionRequest[] = [];
  const send = async (a: AlertToSend) => {
    alerts.push(a);
  };
  const models = new ModelChain({
    defaultClient: ollamaClient(o.ollama.url),
    escalationClient: anthropicClient(o.anthropic.url, o.apiKey),
    logger,
    ...advisorHealthAlerts(send),
  });
  const dir = mkdtempSync(join(tmpdir(), 'helm-diagnose-test-'));
  const evidence = {
    docker: makeDockerReads(undefined),
    evidenceReads: makeDockerEvidenceReads(undefined),
    releases: makeReleaseStore(dir),
    runLogEntries: async () => (await mergeRunLogs(dir, KEY)).entries,
    clock: systemClock,
  };
  const diagnoser = makeIncidentDiagnoser({
    gather: (req) => gatherEvidence(evidence, req),
    models,
    modelNames: { default: 'qwen3-coder', escalation: 'claude-sonnet-4-6' },
    secretValues: async () => o.secretValues ?? [],
    submitContext: async () => ({ recordedReleaseIds: [], previousReleaseId: null, currentReplicas: 1 }),
    allowed: new Set(['restart', 'rollback']),
    submit:
      o.submit ??
      (async (r) => {
        submitted.push(r);
      }),
    send,
    log: logger,
    timeoutMs: 20_000,
    callTimeoutMs: 5000,
  });
  return { diagnoser, alerts, submitted, logLines: lines };
}

export function incidentAlert(
  kind: Alert['kind'],
  target: string,
  environment: NonNullable<Alert['environment']>,
): Alert {
  return {
    alert_id: randomUUID(),
    severity: 'critical',
    kind,
    target,
    environment,
    message: `${target}: ${kind}`,
    at: new Date().toISOString(),
    dedup_key: `${kind}:${target}`,
  };
}

/** An answer of the advice schema, citing the inspect item. */
export function adviceFor(target: string, summary: string, proposals: unknown[] = []) {
  return {
    summary,
    findings: [{ statement: summary, evidence_ids: ['inspect'] }],
    possible_causes: [{ cause: summary, confidence: 0.7, evidence_ids: ['inspect'] }],
    unknowns: [],
    proposals: proposals.length
      ? proposals
      : [{ action: 'restart', target, rationale: 'bring it back', evidence_ids: ['inspect'] }],
  };
}
