import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { macInternalJob, verifyInternalJob } from '../../../src/exec-job/internal-job-mac.js';

describe('internal job MACs', () => {
  const key = randomBytes(32);
  it('verify what Helm signed and refuse any change, another key, or no MAC', () => {
    const data = { v: 1, parent_job_id: '7', plan_hash: 'ab', nested: { a: [1, 2] } };
    const signed = { ...data, mac: macInternalJob(data, key) };
    expect(verifyInternalJob(signed, key)).toBe(true);
    expect(verifyInternalJob({ ...signed, parent_job_id: '8' }, key)).toBe(false);
    expect(verifyInternalJob(signed, randomBytes(32))).toBe(false);
    expect(verifyInternalJob(data, key)).toBe(false);
    expect(verifyInternalJob({ ...signed, mac: 'zz' }, key)).toBe(false);
    expect(verifyInternalJob(null, key)).toBe(false);
  });
  it('refuses every single-field change (property)', () => {
    let runs = 0;
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1 }), fc.oneof(fc.string(), fc.integer())),
        fc.string({ minLength: 1 }),
        fc.string(),
        (data, field, value) => {
          runs += 1;
          const signed = { ...data, mac: macInternalJob(data, key) };
          fc.pre(field !== 'mac' && data[field] !== value);
          expect(verifyInternalJob({ ...signed, [field]: value }, key)).toBe(false);
        },
      ),
      { numRuns: 2000 },
    );
    console.log(`internal job MAC property: ${runs} runs`);
  });
});
