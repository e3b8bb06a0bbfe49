import { describe, expect, it } from 'vitest';
import {
  ActionResultSchema,
  ConsumerActionResultSchema,
  echoSubmitted,
  invalidRequestResult,
  parseJobData,
} from '../../../src/contracts/index.js';

// The design card's sample output, with its placeholders filled in.
const cardSample = {
  action: 'deploy',
  target: 'openclaw-gateway',
  environment: 'production',
  status: 'executed',
  approval_id: '3f6c1a52-8d0e-4b7a-9c21-5e4f0a9b7d13',
  outcome: 'deployed v1.2.3 successfully',
  logged: true,
};
const contractAdditions = { request_id: 'forge:build-42', job_id: '17', at: '2026-11-29T17:06:10.123Z' };
const helmResult = { ...cardSample, ...contractAdditions };

function problemsOf(data: unknown): string[] {
  const parsed = parseJobData(ActionResultSchema, data);
  return parsed.ok ? [] : parsed.problems;
}

describe('ActionResult', () => {
  it("the design card's sample validates as an ActionResult (with the contract's request_id, job_id, at)", () => {
    expect(problemsOf(helmResult)).toEqual([]);
  });

  it("a consumer parses the card's sample exactly as written", () => {
    expect(ConsumerActionResultSchema.safeParse(cardSample).success).toBe(true);
    for (const status of ['pending_approval', 'approved', 'executed', 'failed']) {
      const sample = {
        ...cardSample,
        status,
        ...(status === 'failed' ? { error: { code: 'docker_error', message: 'x' } } : {}),
      };
      expect(ConsumerActionResultSchema.safeParse(sample).success).toBe(true);
    }
  });

  it('Helm must send request_id, job_id and at', () => {
    expect(problemsOf(cardSample)).toEqual([
      'request_id is required',
      'job_id is required',
      'at is required',
    ]);
  });

  it('error is present exactly when failed', () => {
    expect(problemsOf({ ...helmResult, status: 'failed' })).toEqual([
      'error: is required when status is failed',
    ]);
    expect(problemsOf({ ...helmResult, error: { code: 'internal', message: 'x' } })).toEqual([
      'error: must be absent unless status is failed',
    ]);
    expect(
      problemsOf({
        ...helmResult,
        status: 'failed',
        error: { code: 'docker_error', message: 'engine said no' },
      }),
    ).toEqual([]);
  });

  it('pending_approval carries an approval_id; approved may be null when no approval was needed', () => {
    expect(problemsOf({ ...helmResult, status: 'pending_approval', approval_id: null })).toEqual([
      'approval_id: is required when status is pending_approval',
    ]);
    expect(problemsOf({ ...helmResult, status: 'approved', approval_id: null })).toEqual([]);
  });

  it('only an invalid_request result may echo junk or null', () => {
    const invalid = { ...helmResult, action: 'nuke', target: null, environment: '../x', status: 'failed' };
    expect(problemsOf({ ...invalid, error: { code: 'invalid_request', message: 'action: …' } })).toEqual([]);
    expect(problemsOf({ ...invalid, error: { code: 'docker_error', message: 'x' } })).toEqual([
      'action: must be a known action',
      'target: must be a valid target',
      'environment: must be a known environment',
    ]);
  });

  it('strict on codes, lenient for consumers', () => {
    const future = {
      ...helmResult,
      status: 'failed',
      error: { code: 'quota_exceeded', message: 'x' },
      extra: 1,
    };
    expect(problemsOf(future)).toEqual([
      'error.code: must be one of invalid_request, request_id_conflict, unknown_target, target_ambiguous, environment_mismatch, protected_target, not_supported, artifact_mismatch, denied, approval_expired, cancelled, stale_plan, health_check_failed, rolled_back, rollback_failed, rollback_unavailable, docker_error, timeout, unavailable, internal, got "quota_exceeded"',
      'unknown field "extra"',
    ]);
    expect(ConsumerActionResultSchema.safeParse(future).success).toBe(true);
  });

  it('data is a JSON object of at most 64 KiB', () => {
    expect(problemsOf({ ...helmResult, data: { ok: true, latency_ms: 1.5 } })).toEqual([]);
    expect(problemsOf({ ...helmResult, data: ['x'] })).toEqual(['data: must be a JSON object, got an array']);
    expect(problemsOf({ ...helmResult, data: { blob: 'x'.repeat(64 * 1024) } })).toEqual([
      'data: must be at most 65536 bytes serialised, got 65547',
    ]);
    expect(problemsOf({ ...helmResult, data: { s: 'a\udc00' } })).toEqual([
      'data: must be plain JSON, but it contains a lone surrogate at s',
    ]);
  });

  it('logs data holds lines and truncated', () => {
    const logs = { ...helmResult, action: 'logs', approval_id: null };
    const line = { container: 'web-1', stream: 'stderr', at: '2026-11-29T17:00:00.123456789Z', text: 'oops' };
    expect(problemsOf({ ...logs, data: { lines: [line, { ...line, at: null }], truncated: false } })).toEqual(
      [],
    );
    expect(problemsOf({ ...logs, data: { lines: 'a\nb' } })).toEqual([
      'data: must hold lines ({ container, stream, at, text }) and truncated (boolean) for logs',
    ]);
    expect(problemsOf({ ...logs, data: { lines: ['a'], truncated: false } })).toEqual([
      'data: must hold lines ({ container, stream, at, text }) and truncated (boolean) for logs',
    ]);
  });

  it('release', () => {
    const release = {
      id: 'gw:r42',
      image: 'gw:1.2.3',
      image_id: `sha256:${'a'.repeat(64)}`,
      manifest_digest: null,
      artifact_id: null,
    };
    expect(problemsOf({ ...helmResult, release })).toEqual([]);
    expect(problemsOf({ ...helmResult, release: { ...release, image: '-rf' } })).toEqual([
      'release.image: not a valid image reference: must start with a letter or digit',
    ]);
  });
});

describe('invalidRequestResult', () => {
  it('echoes submitted strings cut to 128 code points, null otherwise, and validates', () => {
    const result = invalidRequestResult({
      data: { action: 'x'.repeat(200), target: 5, environment: 'prod\ud800', request_id: 'bad id!' },
      jobId: '9',
      problems: ['action: …', 'target: …'],
      at: '2026-11-29T17:06:10Z',
      logged: false,
    });
    expect(result.action).toBe('x'.repeat(128));
    expect(result.target).toBeNull();
    expect(result.environment).toBe('prod\ufffd');
    expect(result.request_id).toBeNull();
    expect(result.error).toEqual({ code: 'invalid_request', message: 'action: …; target: …' });
    expect(problemsOf(result)).toEqual([]);
  });

  it('for non-object data everything is null', () => {
    const result = invalidRequestResult({
      data: [1],
      jobId: '9',
      problems: ['x'],
      at: '2026-11-29T17:06:10Z',
      logged: true,
    });
    expect([result.action, result.target, result.environment, result.request_id]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(problemsOf(result)).toEqual([]);
  });

  it('echo counts code points', () => {
    expect(echoSubmitted('😀'.repeat(200))).toBe('😀'.repeat(128));
    expect(echoSubmitted(null)).toBeNull();
  });
});
