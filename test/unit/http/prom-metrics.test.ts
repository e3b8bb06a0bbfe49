// The prom-client adapter's labels stay bounded (what a request echoes never becomes a label) and a
// rollback is told from the final result: requested (a rollback action) or automatic (a failed deploy).
import { describe, expect, it } from 'vitest';
import { makePromMetrics } from '../../../src/http/prom-metrics.js';

async function sample(text: Promise<string>, line: RegExp): Promise<number | null> {
  const m = new RegExp(`^${line.source} (\\S+)$`, 'm').exec(await text);
  return m ? Number(m[1]) : null;
}

describe('makePromMetrics', () => {
  it('counts an unknown action, environment and code as invalid / other', async () => {
    const prom = makePromMetrics();
    prom.metrics.requestFinished({
      action: '<script>',
      environment: 'moon',
      status: 'failed',
      code: 'made_up',
    });
    const text = prom.registry.metrics();
    expect(await text).not.toContain('<script>');
    expect(
      await sample(
        text,
        /helm_requests_total\{action="invalid",environment="invalid",status="failed",code="other"\}/,
      ),
    ).toBe(1);
  });

  it('tells requested rollbacks from automatic ones', async () => {
    const prom = makePromMetrics();
    const m = prom.metrics;
    m.requestFinished({ action: 'rollback', environment: 'production', status: 'executed', code: null });
    m.requestFinished({ action: 'deploy', environment: 'staging', status: 'failed', code: 'rolled_back' });
    m.requestFinished({
      action: 'deploy',
      environment: 'staging',
      status: 'failed',
      code: 'rollback_failed',
    });
    m.requestFinished({ action: 'deploy', environment: 'staging', status: 'executed', code: null });
    const text = prom.registry.metrics();
    expect(await sample(text, /helm_rollbacks_total\{trigger="requested",result="executed"\}/)).toBe(1);
    expect(await sample(text, /helm_rollbacks_total\{trigger="automatic",result="rolled_back"\}/)).toBe(1);
    expect(await sample(text, /helm_rollbacks_total\{trigger="automatic",result="rollback_failed"\}/)).toBe(
      1,
    );
  });

  it('reads queue depths at scrape time and leaves out a queue that cannot answer', async () => {
    const prom = makePromMetrics();
    let waiting = 3;
    prom.watchQueues([
      { name: 'helm.actions', getJobCounts: async () => ({ waiting, delayed: 1 }) },
      { name: 'helm.approvals', getJobCounts: async () => Promise.reject(new Error('down')) },
    ]);
    expect(
      await sample(prom.registry.metrics(), /helm_queue_jobs\{queue="helm.actions",state="waiting"\}/),
    ).toBe(3);
    waiting = 5;
    const text = prom.registry.metrics();
    expect(await sample(text, /helm_queue_jobs\{queue="helm.actions",state="waiting"\}/)).toBe(5);
    expect(await sample(text, /helm_queue_jobs\{queue="helm.actions",state="delayed"\}/)).toBe(1);
    expect(await text).not.toContain('helm.approvals');
  });
});
