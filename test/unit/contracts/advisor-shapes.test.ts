// Contract 1.2: the diagnosis alert's details, the advice job on warden.requests, helm.requests.
import { describe, expect, it } from 'vitest';
import {
  AdviceJobSchema,
  AlertSchema,
  DiagnosisDetailsSchema,
  parseJobData,
  PlainRequestAnswerSchema,
  PlainRequestSchema,
} from '../../../src/contracts/index.js';

const restart = {
  action: 'restart',
  target: 'web',
  environment: 'dev',
  reason: 'crash loop after OOM',
  requested_by: 'helm-advisor',
};
const submitted = {
  request: restart,
  submitted: true,
  request_id: 'helm-advisor:abc',
  why_not_submitted: null,
};
const proposed = {
  request: { ...restart, action: 'stop' },
  submitted: false,
  request_id: null,
  why_not_submitted: 'the advisor only proposes stop',
};
const model = { model: 'qwen3-coder', escalated: false, trigger: null, note: 'qwen3-coder answered.' };
const body = {
  summary: 'The container ran out of memory.',
  findings: [{ statement: 'exit 137, OOMKilled', evidence_ids: ['inspect'] }],
  possible_causes: [{ cause: 'memory limit too low', confidence: 0.8, evidence_ids: ['inspect'] }],
  unknowns: ['whether traffic grew'],
};
const details = {
  type: 'helm.diagnosis.v1',
  incident: {
    alert_id: '0b7e9c2a-4f1d-4a3e-9b8c-2d6f1e0a5c47',
    dedup_key: 'crash_loop:web',
    kind: 'crash_loop',
  },
  ...model,
  ...body,
  proposals: [submitted, proposed],
};

describe('diagnosis details', () => {
  it('accepts a diagnosis, also as the details of a diagnosis alert', () => {
    expect(parseJobData(DiagnosisDetailsSchema, details)).toMatchObject({ ok: true });
    const alert = {
      alert_id: '1b7e9c2a-4f1d-4a3e-9b8c-2d6f1e0a5c47',
      severity: 'warning',
      kind: 'diagnosis',
      target: 'web',
      environment: 'dev',
      message: 'Diagnosis of crash_loop on web: the container ran out of memory.',
      details,
      at: '2026-12-03T15:00:00Z',
      dedup_key: 'crash_loop:web',
    };
    expect(AlertSchema.safeParse(alert).success).toBe(true);
  });

  it('accepts no model (the deterministic summary) and refuses an unknown incident kind', () => {
    expect(DiagnosisDetailsSchema.safeParse({ ...details, model: null }).success).toBe(true);
    const parsed = parseJobData(DiagnosisDetailsSchema, {
      ...details,
      incident: { ...details.incident, kind: 'cpu_high' },
    });
    expect(parsed.ok).toBe(false);
  });

  it('a proposal carries a request_id exactly when submitted, and a reason exactly when not', () => {
    for (const bad of [
      { ...submitted, request_id: null },
      { ...proposed, request_id: 'x:1' },
      { ...proposed, why_not_submitted: null },
      { ...submitted, request: { ...restart, action: 'launch' } },
    ]) {
      expect(DiagnosisDetailsSchema.safeParse({ ...details, proposals: [bad] }).success).toBe(false);
    }
  });
});

describe('advice job', () => {
  const advice = {
    type: 'helm.advice.v1',
    advisory: true,
    approval_id: '0b7e9c2a-4f1d-4a3e-9b8c-2d6f1e0a5c47',
    plan_hash: 'a'.repeat(64),
    ...model,
    escalated: true,
    trigger: 'zero_downtime_deploy',
    ...body,
    at: '2026-12-03T15:00:00Z',
  };
  it('is advisory and linked by approval_id and plan_hash', () => {
    expect(AdviceJobSchema.safeParse(advice).success).toBe(true);
    expect(AdviceJobSchema.safeParse({ ...advice, advisory: false }).success).toBe(false);
    expect(AdviceJobSchema.safeParse({ ...advice, approved: true }).success).toBe(false);
  });
});

describe('helm.requests', () => {
  it('takes text and requested_by, optional request_id and submit; nothing else', () => {
    const ok = { text: 'roll back web in staging', requested_by: 'owner' };
    expect(PlainRequestSchema.safeParse(ok).success).toBe(true);
    expect(PlainRequestSchema.safeParse({ ...ok, request_id: 'owner:1', submit: true }).success).toBe(true);
    expect(PlainRequestSchema.safeParse({ ...ok, text: '  ' }).success).toBe(false);
    expect(PlainRequestSchema.safeParse({ text: ok.text }).success).toBe(false);
    expect(PlainRequestSchema.safeParse({ ...ok, approve: true }).success).toBe(false);
  });

  const answer = {
    type: 'helm.request-answer.v1',
    request_id: 'owner:1',
    outcome: 'submitted',
    ...model,
    summary: 'Roll back web in staging.',
    question: null,
    requests: [submitted],
    at: '2026-12-03T15:00:00Z',
  };
  it('answers with submitted requests, a plan, or a question', () => {
    expect(PlainRequestAnswerSchema.safeParse(answer).success).toBe(true);
    expect(
      PlainRequestAnswerSchema.safeParse({ ...answer, outcome: 'plan', requests: [proposed] }).success,
    ).toBe(true);
    expect(
      PlainRequestAnswerSchema.safeParse({
        ...answer,
        outcome: 'question',
        question: 'Which service?',
        requests: [],
      }).success,
    ).toBe(true);
  });

  it('a question is there exactly when asked; submitted means every request was', () => {
    expect(PlainRequestAnswerSchema.safeParse({ ...answer, outcome: 'question' }).success).toBe(false);
    expect(PlainRequestAnswerSchema.safeParse({ ...answer, question: 'Which?' }).success).toBe(false);
    expect(PlainRequestAnswerSchema.safeParse({ ...answer, requests: [proposed] }).success).toBe(false);
  });
});
