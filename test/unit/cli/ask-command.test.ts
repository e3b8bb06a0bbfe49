import { describe, expect, it } from 'vitest';
import { invalidPlainRequestAnswer } from '../../../src/advisor/plain-request.js';
import { describeAnswer } from '../../../src/cli/ask-command.js';
import type { PlainRequestAnswer } from '../../../src/contracts/index.js';

const restart = {
  action: 'restart' as const,
  target: 'web',
  environment: 'staging' as const,
  reason: 'asked',
  requested_by: 'helm-advisor',
};
const base: PlainRequestAnswer = {
  type: 'helm.request-answer.v1',
  request_id: null,
  outcome: 'submitted',
  model: 'qwen3-coder',
  escalated: false,
  trigger: null,
  note: 'qwen3-coder answered.',
  summary: 'Restart web in staging.',
  question: null,
  requests: [
    {
      request: { ...restart, request_id: 'ask:1:1' },
      submitted: true,
      request_id: 'ask:1:1',
      why_not_submitted: null,
    },
  ],
  at: '2026-12-03T15:00:00Z',
};

describe('describeAnswer', () => {
  it('submitted: each request with its request_id, exit 0', () => {
    const { text, exitCode } = describeAnswer(base);
    expect(exitCode).toBe(0);
    expect(text).toContain('submitted (qwen3-coder): Restart web in staging.');
    expect(text).toContain('- submitted as ask:1:1');
    expect(text).toContain('helm pending');
  });

  it('a plan not submitted says how to submit it; a question exits 2; unavailable exits 1', () => {
    const plan = describeAnswer({
      ...base,
      outcome: 'plan',
      model: 'claude-sonnet-4-6',
      escalated: true,
      trigger: 'multi_service',
      requests: [
        { request: restart, submitted: false, request_id: null, why_not_submitted: 'only with --submit' },
      ],
    });
    expect(plan.text).toContain('(claude-sonnet-4-6 (escalated))');
    expect(plan.text).toContain('run again with --submit');
    expect(
      describeAnswer({ ...base, outcome: 'question', question: 'Which service?', requests: [] }),
    ).toMatchObject({
      exitCode: 2,
    });
    expect(describeAnswer({ ...base, outcome: 'unavailable', model: null, requests: [] }).exitCode).toBe(1);
  });
});

describe('invalidPlainRequestAnswer', () => {
  it('is a question naming the problems, valid by the contract', () => {
    const answer = invalidPlainRequestAnswer(['requested_by: is required'], new Date('2026-12-03T15:00:00Z'));
    expect(answer).toMatchObject({ outcome: 'question', model: null, requests: [] });
    expect(answer.question).toContain('requested_by: is required');
  });
});
