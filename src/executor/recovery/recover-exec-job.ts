import type { Job } from 'bullmq';
import type { ExecResult, SignedExecJob } from '../../exec-job/exec-job.js';
import type { Intent } from '../../intents/intent-store.js';
import { planOf, type RunDeps, runRecovery } from './run-recovery.js';

/**
 * The hook in run-exec-job.ts: an exec job whose intent is on disk came back after its worker died.
 * It already passed its checks and its `executing` entry is in the run log: it is recovered, under
 * the lease the job holds, never checked and run again.
 */
export async function recoverExecJob(
  deps: RunDeps & {
    job: Pick<Job, 'timestamp'>;
    data: SignedExecJob;
    intent: Intent;
    lease: { check(): Promise<void> };
    /** Pages Sentinel for a release that was rolled back or could not be restored. */
    alert(result: ExecResult): Promise<void>;
  },
): Promise<ExecResult> {
  const result = await runRecovery(deps, deps.intent, {
    plan: planOf(deps.data, deps.intent, null),
    startedAt: Number.isFinite(deps.job.timestamp) ? new Date(deps.job.timestamp) : null,
    check: () => deps.lease.check(),
  });
  await deps.alert(result);
  return result;
}
