import type { Job } from 'bullmq';
import type { Clock } from '../../base/clock.js';
import type { AlertSender } from '../../bus/alert-sender.js';
import type { Plan } from '../../contracts/index.js';
import type { ExecResult } from '../../exec-job/exec-job.js';
import type { Intent, IntentStore } from '../../intents/intent-store.js';
import type { Logger } from '../../log/logger.js';
import type { RunLog } from '../../runlog/index.js';
import type { LeaseManager } from '../lease.js';
import type { ExecRecovery } from './recover-interrupted-operation.js';
import { planOf, runRecovery } from './run-recovery.js';

export interface OrphanSweepDeps {
  /** Null when this Helm makes no Docker changes (then there is nothing to recover with). */
  recovery: ExecRecovery | null;
  intents: IntentStore;
  /** helm.exec, to see whether an intent's job is still alive. */
  execQueue: { getJob(id: string): Promise<Job | undefined> };
  leases: LeaseManager;
  runLog: RunLog;
  alerts?: AlertSender;
  internalKey: Buffer;
  /** The plans' host id ("local"): leases are per host and service. */
  host: string;
  logger: Logger;
  clock: Clock;
  timeoutMs: number;
  /** How often to ask again for a busy service's lease. @defaultValue 250 */
  retryMs?: number;
  /** How long to wait for it before leaving the intent to the next start-up. @defaultValue 300_000 */
  giveUpMs?: number;
}

export interface OrphanSweep {
  /** Resolves with what was recovered once the sweep is over. */
  done: Promise<Array<{ op: string; result: ExecResult }>>;
  stop(): Promise<void>;
}

/** Job states in which an exec job will not come back by itself. */
const ENDED = new Set(['completed', 'failed', 'unknown']);

/**
 * At start-up: intents whose exec job no longer exists or is finished will never come back through
 * BullMQ (Redis lost them, or BullMQ failed the job). Each is recovered under its service's lease
 * and its outcome written to the run log (`recovered`). Intents of jobs still waiting or active are
 * left alone: the job itself comes back to the hook. Runs in the background; `stop` ends it.
 */
export function recoverOrphanedIntents(deps: OrphanSweepDeps): OrphanSweep {
  let stopped = false;
  const done = sweep(deps, () => stopped);
  return {
    done,
    async stop() {
      stopped = true;
      await done.catch(() => undefined);
    },
  };
}

type Recovered = Array<{ op: string; result: ExecResult }>;

async function sweep(deps: OrphanSweepDeps, stopped: () => boolean): Promise<Recovered> {
  const recovered: Recovered = [];
  if (!deps.recovery) return recovered;
  let intents: Intent[];
  try {
    intents = await deps.intents.list();
  } catch (err) {
    deps.logger.error({ err }, 'the intents folder cannot be read: no crash recovery at start-up');
    return recovered;
  }
  for (const intent of intents) {
    if (stopped()) break;
    try {
      await recoverOrphan({ ...deps, recovery: deps.recovery }, intent, stopped, recovered);
    } catch (err) {
      deps.logger.error({ err, op: intent.op }, 'recovery of an orphaned intent failed');
    }
  }
  return recovered;
}

/** One intent: recovered when its exec job will not come back, under its service's lease. */
async function recoverOrphan(
  deps: OrphanSweepDeps & { recovery: ExecRecovery },
  intent: Intent,
  stopped: () => boolean,
  recovered: Recovered,
): Promise<void> {
  const job = await deps.execQueue.getJob(intent.op);
  const state = job ? await job.getState() : 'unknown';
  if (!ENDED.has(state)) return;
  const lease = await leaseWhenFree(deps, intent, stopped);
  if (!lease) return;
  try {
    const plan = planOf(job?.data, intent, deps.internalKey);
    const result = await runRecovery(deps, intent, {
      plan,
      startedAt: job && Number.isFinite(job.timestamp) ? new Date(job.timestamp) : null,
      check: () => lease.check(),
    });
    recovered.push({ op: intent.op, result });
    if (deps.alerts) await alertFailedRelease(deps.alerts, intent, plan, result);
  } finally {
    await lease.release();
  }
}

/** The service's lease, asked for again while it is busy, until `giveUpMs`; null: left to the next start-up. */
async function leaseWhenFree(deps: OrphanSweepDeps, intent: Intent, stopped: () => boolean) {
  const retryMs = deps.retryMs ?? 250;
  const giveUpMs = deps.giveUpMs ?? 300_000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms).unref());
  const service = `${deps.host}/${intent.service}`;
  const deadline = Date.now() + giveUpMs;
  let lease = await deps.leases.tryAcquire(service, intent.op);
  while (!lease && !stopped() && Date.now() < deadline) {
    await sleep(retryMs);
    lease = await deps.leases.tryAcquire(service, intent.op);
  }
  if (!lease)
    deps.logger.warn(
      { op: intent.op, service },
      'service busy: its orphaned intent waits for the next start-up',
    );
  return lease;
}

/** As the executor pages for a failed release (CONTRACT.md decision 43), for one the sweep recovered. */
async function alertFailedRelease(
  alerts: AlertSender,
  intent: Intent,
  plan: Plan | null,
  result: ExecResult,
) {
  if (result.ok || (result.code !== 'rolled_back' && result.code !== 'rollback_failed')) return;
  const restored = result.code === 'rolled_back';
  await alerts.send({
    severity: restored && plan !== null && plan.environment !== 'production' ? 'warning' : 'critical',
    kind: restored ? 'rolled_back' : 'deploy_failed',
    target: intent.service,
    ...(plan ? { environment: plan.environment } : {}),
    message: `${intent.action} of ${intent.service} was interrupted by a crash${restored ? ' and rolled back' : '; the previous release could not be restored'}: ${result.message}`,
    details: {
      job_id: intent.job_id,
      plan_hash: intent.plan_hash,
      ...(result.data ? { data: result.data } : {}),
    },
    dedup_key: `${restored ? 'rolled_back' : 'deploy_failed'}:${intent.job_id}`,
  });
}
