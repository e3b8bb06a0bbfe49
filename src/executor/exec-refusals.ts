import type { Job } from 'bullmq';
import type { ActionRequest } from '../contracts/index.js';
import type { ExecResult, SignedExecJob } from '../exec-job/exec-job.js';
import type { Seen } from '../observe/observe-and-plan.js';
import { outOfScopeSecrets, summariseScopeProblems } from '../secrets/secret-scope-check.js';

import type { ExecDeps } from './exec-deps.js';

/** How the executor refuses a job before any change, and pages the owner after a failed release. */

/** The gate refused references outside their scope; a scope the owner narrowed since holds too. */
export async function secretsOutOfScope(
  deps: ExecDeps,
  request: ActionRequest,
  seen: Seen,
): Promise<ExecResult | null> {
  const outOfScope = await outOfScopeSecrets(request, seen, deps);
  if (outOfScope.length === 0) return null;
  return {
    ok: false,
    code: 'denied',
    message: `${summariseScopeProblems(outOfScope)}; nothing was changed`,
  };
}

/**
 * A deploy or rollback that failed pages the owner: rolled back (warning) or not restorable
 * (critical); a start-first deploy whose new release failed before the switch (health_check_failed:
 * the old one served throughout) is deploy_failed, a warning (contract 1.6, decision 87).
 */
export async function alertFailedRelease(deps: ExecDeps, data: SignedExecJob, result: ExecResult) {
  if (result.ok) return;
  const beforeSwitch = result.code === 'health_check_failed' && data.plan.action === 'deploy';
  if (!beforeSwitch && result.code !== 'rolled_back' && result.code !== 'rollback_failed') return;
  const restored = result.code === 'rolled_back';
  const kind = restored ? 'rolled_back' : 'deploy_failed';
  const what = `${data.plan.action} of ${data.plan.service} failed`;
  await deps.alerts.send({
    severity: beforeSwitch || (restored && data.plan.environment !== 'production') ? 'warning' : 'critical',
    kind,
    target: data.plan.service,
    environment: data.plan.environment,
    message: beforeSwitch
      ? `${what} before the switch; the previous release served throughout: ${result.message}`
      : `${what}${restored ? ' and was rolled back' : '; the previous release could not be restored'}: ${result.message}`,
    details: {
      job_id: data.parent_job_id,
      plan_hash: data.plan_hash,
      ...(result.data ? { data: result.data } : {}),
    },
    dedup_key: `${kind}:${data.parent_job_id}`,
  });
}

export async function securityRefusal(
  deps: ExecDeps,
  data: SignedExecJob,
  code: 'stale_plan' | 'denied',
  why: string,
): Promise<ExecResult> {
  const message = `refused before any change: ${why}; nothing was changed`;
  await deps.runLog
    .append({
      event: 'security',
      job_id: data.parent_job_id,
      action: data.plan.action,
      target: data.plan.service,
      environment: data.plan.environment,
      code,
      message,
    })
    .catch(() => undefined);
  await deps.alerts.send({
    severity: 'critical',
    kind: code === 'stale_plan' ? 'stale_plan' : 'security',
    target: data.plan.service,
    environment: data.plan.environment,
    message: `${data.plan.action} ${data.plan.service}: ${message}`,
    details: { job_id: data.parent_job_id, plan_hash: data.plan_hash },
    dedup_key: `security:exec:${data.parent_job_id}`,
  });
  return { ok: false, code, message };
}

export async function refuseForged(deps: ExecDeps, job: Job, why: string): Promise<ExecResult> {
  const message = `a job on helm.exec was refused: ${why}; nothing was changed`;
  deps.logger.warn({ exec_job: job.id }, message);
  await refuseJob(deps, job, message, {
    event: 'security',
    logCode: 'forged_job',
    dedupKey: `security:exec-job:${job.id}`,
  });
  return { ok: false, code: 'denied', message };
}

/** Helm's own misconfiguration is no attack: the owner is told what to fix, never paged "security". */
export async function refuseMisconfigured(deps: ExecDeps, job: Job, cause: string): Promise<ExecResult> {
  const message = `a job on helm.exec was not run: its MAC does not verify because ${cause}; nothing was changed`;
  deps.logger.error({ exec_job: job.id }, message);
  await refuseJob(deps, job, message, {
    event: 'helm_degraded',
    logCode: 'internal_key_mismatch',
    dedupKey: 'helm_degraded:internal_key',
  });
  return { ok: false, code: 'internal', message };
}

/** A job refused before it was looked at: in the run log (best effort) and paged, critical. */
async function refuseJob(
  deps: ExecDeps,
  job: Job,
  message: string,
  r: { event: 'security' | 'helm_degraded'; logCode: string; dedupKey: string },
): Promise<void> {
  await deps.runLog.append({ event: r.event, job_id: null, code: r.logCode, message }).catch(() => undefined);
  await deps.alerts.send({
    severity: 'critical',
    kind: r.event,
    message,
    details: { exec_job: job.id ?? null, name: job.name },
    dedup_key: r.dedupKey,
  });
}
