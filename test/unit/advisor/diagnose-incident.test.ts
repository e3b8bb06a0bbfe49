// The diagnoser's bookkeeping with in-memory ports (no model: the chain port reports none answering):
// which alerts it diagnoses, once per incident, again after the incident ends or after a failure.
import { describe, expect, it } from 'vitest';
import { cacheKey, makeIncidentDiagnoser, outageActive } from '../../../src/advisor/diagnose-incident.js';
import type { EvidenceBundle } from '../../../src/advisor/evidence-bundle.js';
import type { AlertToSend } from '../../../src/advisor/model-runner.js';
import type { Alert } from '../../../src/contracts/index.js';
import { oomBundle } from './oom-bundle.js';

const bundle: EvidenceBundle = oomBundle(3);

function rig(failFirstGather = false) {
  const sent: AlertToSend[] = [];
  let gathers = 0;
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const diagnoser = makeIncidentDiagnoser({
    gather: async () => {
      gathers++;
      if (failFirstGather && gathers === 1) throw new Error('Docker does not answer');
      return { bundle, secretsToMask: [], publicValues: [], gaps: [] };
    },
    models: { run: async () => ({ model: null, tried: [], note: 'No model answered.' }) },
    modelNames: { default: 'qwen3-coder', escalation: 'claude-sonnet-4-6' },
    secretValues: async () => [],
    submitContext: async () => ({ recordedReleaseIds: [], previousReleaseId: null, currentReplicas: 1 }),
    allowed: new Set(['restart']),
    submit: async () => undefined,
    send: async (a) => {
      sent.push(a);
    },
    log: silent,
    timeoutMs: 1000,
  });
  return { diagnoser, sent };
}

const alert = (kind: Alert['kind'], over: Partial<Alert> = {}): Alert => ({
  alert_id: '0b7e9c2a-4f1d-4a3e-9b8c-2d6f1e0a5c47',
  severity: 'critical',
  kind,
  target: 'web',
  environment: 'dev',
  message: 'web',
  at: '2026-12-03T15:00:00Z',
  dedup_key: 'crash_loop:web',
  ...over,
});

describe('makeIncidentDiagnoser', () => {
  it('diagnoses only the five incident kinds, with a target and an environment', async () => {
    const { diagnoser } = rig();
    for (const kind of ['cpu_high', 'action_result', 'diagnosis', 'helm_degraded'] as const)
      expect(await diagnoser.diagnose(alert(kind, { dedup_key: kind }))).toBeNull();
    expect(await diagnoser.diagnose(alert('downtime', { target: undefined, dedup_key: 'x' }))).toBeNull();
    const d = await diagnoser.diagnose(alert('crash_loop'));
    expect(d?.alert.details).toMatchObject({
      model: null,
      summary: expect.stringContaining('exit code 137'),
    });
  });

  it('once per incident, again after recovered; a failed diagnosis is tried again', async () => {
    const { diagnoser, sent } = rig(true);
    await expect(diagnoser.diagnose(alert('crash_loop'))).rejects.toThrow('Docker does not answer');
    expect(await diagnoser.diagnose(alert('crash_loop'))).not.toBeNull();
    expect(await diagnoser.diagnose(alert('crash_loop'))).toBeNull();
    await diagnoser.diagnose(alert('recovered'));
    expect(await diagnoser.diagnose(alert('crash_loop'))).not.toBeNull();
    expect(sent).toHaveLength(2);
  });

  it('onAlert returns at once and never throws', async () => {
    const { diagnoser, sent } = rig(true);
    expect(diagnoser.onAlert(alert('crash_loop'))).toBeUndefined();
    await diagnoser.idle();
    expect(sent).toEqual([]);
  });
});

describe('outageActive and cacheKey', () => {
  it('not running, restarting, unhealthy or unseen is an outage', () => {
    expect(outageActive(bundle)).toBe(true);
    expect(outageActive({ ...bundle, inspect: null })).toBe(true);
    const running = { ...bundle.inspect!, running: true, status: 'running' };
    expect(outageActive({ ...bundle, inspect: running })).toBe(false);
    expect(
      outageActive({
        ...bundle,
        inspect: { ...running, health: { status: 'unhealthy', failingStreak: 3, log: [] } },
      }),
    ).toBe(true);
  });

  it('the key changes with the model and the evidence', () => {
    const k = cacheKey('qwen3-coder', bundle);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey('qwen3-coder', bundle)).toBe(k);
    expect(cacheKey('claude-sonnet-4-6', bundle)).not.toBe(k);
    expect(cacheKey('qwen3-coder', { ...bundle, logs: [{ id: 'log-1', line: 'x' }] })).not.toBe(k);
  });
});
