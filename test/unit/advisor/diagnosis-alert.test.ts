import { describe, expect, it } from 'vitest';
import { diagnosisAlert } from '../../../src/advisor/diagnosis-alert.js';
import {
  ADVISOR_DEGRADED_KEY,
  advisorHealthAlerts,
  type AlertToSend,
} from '../../../src/advisor/model-runner.js';
import type { ActionRequest } from '../../../src/contracts/index.js';

const incident = {
  alert_id: '0b7e9c2a-4f1d-4a3e-9b8c-2d6f1e0a5c47',
  dedup_key: 'downtime:web',
  kind: 'downtime' as const,
  target: 'web',
  environment: 'production' as const,
};
const advice = {
  summary: 'Killed from outside.',
  findings: [{ statement: 'exit 137', evidence_ids: ['inspect'] }],
  possible_causes: [],
  unknowns: [],
  proposals: [],
};
const stop: ActionRequest = {
  action: 'stop',
  target: 'web',
  environment: 'production',
  reason: 'x',
  requested_by: 'helm-advisor',
};

describe('diagnosisAlert', () => {
  it('carries the incident, the model and the advice; info when it proposes nothing', () => {
    const alert = diagnosisAlert(
      incident,
      { model: null, escalated: false, trigger: 'active_outage', note: 'No model answered.' },
      advice,
      [],
    );
    expect(alert).toMatchObject({
      kind: 'diagnosis',
      severity: 'info',
      target: 'web',
      dedup_key: 'downtime:web',
    });
    expect(alert.message).toBe(
      "Diagnosis of downtime on web by Helm's evidence summary (no model answered): Killed from outside.",
    );
    expect(alert.details).toMatchObject({
      type: 'helm.diagnosis.v1',
      incident: { alert_id: incident.alert_id },
      model: null,
    });
  });

  it('warning with proposals, counting what Helm submitted', () => {
    const alert = diagnosisAlert(
      incident,
      { model: 'claude-sonnet-4-6', escalated: true, trigger: 'active_outage', note: 'Escalated.' },
      advice,
      [
        {
          request: stop,
          submitted: false,
          request_id: null,
          why_not_submitted: 'the advisor only proposes stop',
        },
      ],
    );
    expect(alert.severity).toBe('warning');
    expect(alert.message).toContain('Proposals: 1, submitted by Helm: 0');
  });

  it('refuses to emit details that break the contract', () => {
    expect(() =>
      diagnosisAlert(incident, { model: 'm', escalated: false, trigger: null, note: 'n' }, advice, [
        { request: stop, submitted: true, request_id: null, why_not_submitted: null },
      ]),
    ).toThrow();
  });
});

describe('advisorHealthAlerts', () => {
  it('degraded and resolved share the advisor key', () => {
    const sent: AlertToSend[] = [];
    const signals = advisorHealthAlerts((a) => sent.push(a));
    signals.onDegraded({ note: 'No model answered.' });
    signals.onResolved({ model: 'qwen3-coder' });
    expect(sent.map((a) => [a.kind, a.dedup_key])).toEqual([
      ['helm_degraded', ADVISOR_DEGRADED_KEY],
      ['resolved', ADVISOR_DEGRADED_KEY],
    ]);
  });
});
