import { describe, expect, it } from 'vitest';
import {
  AlertSchema,
  ConsumerAlertSchema,
  HeartbeatSchema,
  parseJobData,
} from '../../../src/contracts/index.js';

const alert = {
  alert_id: '0b7e9c2a-4f1d-4a3e-9b8c-2d6f1e0a5c47',
  severity: 'critical',
  kind: 'downtime',
  target: 'openclaw-gateway',
  environment: 'production',
  message: 'openclaw-gateway is down',
  details: { probe: 'http', status: 503 },
  at: '2026-11-29T17:06:10Z',
  dedup_key: 'downtime:openclaw-gateway',
};

describe('Alert', () => {
  it('accepts an alert Helm would send', () => {
    expect(AlertSchema.safeParse(alert).success).toBe(true);
  });

  it('is strict about kinds; consumers accept unknown kinds and fields', () => {
    const future = { ...alert, kind: 'gpu_high', extra: true };
    const parsed = parseJobData(AlertSchema, future);
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      expect.stringMatching(/^kind: must be one of downtime, .*, got "gpu_high"$/),
      'unknown field "extra"',
    ]);
    expect(ConsumerAlertSchema.safeParse(future).success).toBe(true);
  });

  it('refuses bad severities, blank messages, non-object details', () => {
    const parsed = parseJobData(AlertSchema, { ...alert, severity: 'fatal', message: ' ', details: 'x' });
    expect(parsed.ok ? [] : parsed.problems).toEqual([
      'severity: must be one of info, warning, critical, got "fatal"',
      'message: must not be blank',
      'details: must be a JSON object, got a string',
    ]);
  });
});

describe('Heartbeat', () => {
  it('accepts what a Helm process writes', () => {
    const beat = {
      at: '2026-11-29T17:06:10.5Z',
      host: 'box-1',
      pid: 4242,
      version: '0.1.0',
      workers: ['helm.actions'],
    };
    expect(HeartbeatSchema.safeParse(beat).success).toBe(true);
    expect(HeartbeatSchema.safeParse({ ...beat, workers: ['a', 'a'] }).success).toBe(false);
    expect(HeartbeatSchema.safeParse({ ...beat, pid: 0 }).success).toBe(false);
  });
});
