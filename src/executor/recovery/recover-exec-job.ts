import type { Job } from 'bullmq';
import type { Keyring } from '../../approval/index.js';
import type { ExecResult, SignedExecJob } from '../../exec-job/exec-job.js';
import type { Intent } from '../../intents/intent-store.js';
import type { ApprovalLedger } from '../../runlog/approval-ledger.js';
import type { NextAfterCrash } from './after-crash-decision.js';
import { resumeRefusal } from './resume-approval.js';
import { logRecovered, planOf, type RunDeps, runRecovery } from './run-recovery.js';

/** How a request that changed nothing runs again (run-exec-job.ts): planned again, then run under the same op. */
export interface ResumeDeps {
  keyring(): Keyring;
  ledger: Pick<ApprovalLedger, 'consumedFor' | 'hasStarted' | 'refresh'>;
  skewMs: number;
  needsApproval(plan: SignedExecJob['plan']): boolean;
  resume(): Promise<ExecResult>;
}

/**
 * The hook in run-exec-job.ts: an exec job whose intent is on disk came back after its worker died.
 * It already passed its checks and its `executing` entry is in the run log. What the interrupted
 * step left decides (after-crash-decision.ts): nothing changed → the request resumes (its approval
 * checked as the same use, resume-approval.ts); else it is recovered under the lease the job holds,
 * never checked and run again. Either way one `recovered` entry says which.
 */
export async function recoverExecJob(
  deps: RunDeps & {
    job: Pick<Job, 'timestamp'>;
    data: SignedExecJob;
    intent: Intent;
    lease: { check(): Promise<void> };
    /** Pages Sentinel for a release that was rolled back or could not be restored. */
    alert(result: ExecResult): Promise<void>;
    /** Absent: a request that changed nothing is not resumed (it fails as before). */
    resume?: ResumeDeps;
  },
): Promise<ExecResult> {
  const plan = planOf(deps.data, deps.intent, null);
  const startedAt = Number.isFinite(deps.job.timestamp) ? new Date(deps.job.timestamp) : null;
  if (plan && deps.resume) {
    const next = await deps.recovery
      .assess(deps.intent, { plan, startedAt })
      .catch(
        (err: Error): NextAfterCrash => ({ next: 'reconcile', why: `it could not be read (${err.message})` }),
      );
    if (next.next === 'resume') return resumeRequest(deps, deps.resume, next.why);
  }
  const result = await runRecovery(deps, deps.intent, {
    plan,
    startedAt,
    check: () => deps.lease.check(),
  });
  await deps.alert(result);
  return result;
}

async function resumeRequest(
  deps: RunDeps & { data: SignedExecJob; intent: Intent; lease: { check(): Promise<void> } },
  resume: ResumeDeps,
  why: string,
): Promise<ExecResult> {
  const { intent, data } = deps;
  await deps.lease.check();
  await resume.ledger.refresh?.();
  const refusal = resumeRefusal(
    { ...resume, now: deps.clock.now(), needsApproval: resume.needsApproval(data.plan) },
    data,
    intent,
  );
  deps.logger.warn(
    { op: intent.op, service: intent.service, action: intent.action, step: intent.step, why },
    refusal
      ? 'an interrupted request changed nothing and cannot resume'
      : 'an interrupted request changed nothing: it resumes',
  );
  const entry: ExecResult = refusal ?? {
    ok: true,
    outcome: `nothing had changed after a crash at step ${intent.step} (${why}): the request resumes`,
  };
  await logRecovered(deps, intent, data.plan, entry).catch((err) =>
    deps.logger.error({ err, op: intent.op }, 'could not write the recovery to the run log'),
  );
  if (refusal) {
    await deps.intents.done(intent.op);
    return refusal;
  }
  // The intent stays until the resumed run writes its own (same op, from `start`) over it: a crash
  // in between comes back here, never as a fresh job (whose approval check would refuse it as used).
  return resume.resume();
}
