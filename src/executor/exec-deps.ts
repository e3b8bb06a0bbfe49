import type { Environment } from '../contracts/index.js';
import type { Keyring } from '../approval/index.js';
import type { AlertSender } from '../bus/alert-sender.js';
import type { Clock } from '../base/clock.js';
import type { Plan } from '../contracts/index.js';
import type { DockerReads } from '../docker/docker-ports.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { ApprovalLedger } from '../runlog/approval-ledger.js';
import type { ExecResult } from '../exec-job/exec-job.js';
import type { Logger } from '../log/logger.js';
import type { PlanInputSources } from '../observe/plan-inputs.js';
import type { SecretScopeSources } from '../secrets/secret-scope-check.js';
import type { ReleaseStore } from '../releases/release-store.js';
import type { Policy } from '../policy/policy.js';
import type { RunLog } from '../runlog/index.js';
import type { IntentStore } from '../intents/intent-store.js';
import type { LeaseManager } from './lease.js';
import type { ExecRecovery } from './recovery/recover-interrupted-operation.js';

/**
 * An executor's job on helm.exec. Before its first change it checks everything again: that the gate
 * issued the job (MAC), that a change needing approval carries a valid signed decision for this very
 * plan, consumed for this very request and not used before (the run log says so, not only Redis),
 * that the decision has not expired, and that the target still looks as it did when the plan was
 * made. Then it takes the service's lease, writes its intent, and runs the operation; every Docker
 * change is announced (lease checked, intent step recorded) before it is made.
 */
export interface ExecOperationContext {
  service: ResolvedService;
  plan: Plan;
  approvalId: string | null;
  requestId: string | null;
  /** The operation id (the intent's op); labelled helm.op on what Helm creates. */
  opId: string;
  /** Call before every Docker change: checks the lease and records the intent step. */
  beforeChange(step: string, detail?: Record<string, unknown>): Promise<void>;
}

/** The operations an executor can run, by action. */
export type ExecOperations = Partial<Record<string, (ctx: ExecOperationContext) => Promise<ExecResult>>>;

export interface ExecDeps extends PlanInputSources, SecretScopeSources {
  /** The owner's services file: the environment of a service defined there with no container yet. */
  definedEnvironment?: (service: string) => Environment | null;
  internalKey: Buffer;
  configKey: Buffer;
  keyring(): Keyring;
  policy(): Policy;
  ledger: ApprovalLedger;
  runLog: RunLog;
  alerts: AlertSender;
  docker: DockerReads;
  leases: LeaseManager;
  intents: IntentStore;
  operations: ExecOperations;
  /** Release records, for recomputing deploy and rollback plans. */
  releases?: ReleaseStore;
  clock: Clock;
  logger: Logger;
  host: string;
  skewMs: number;
  /** How soon a job that waits for its service's lease asks again. */
  leaseRetryMs: number;
  timeoutMs: number;
  /** Crash recovery (recover.ts): how a job that came back after its worker died is reconciled. */
  recovery?: ExecRecovery | null;
  /**
   * Why a job's MAC may not verify without anyone forging it: a live Helm process on this bus holds
   * another internal-job key (internal-key-claim.ts). null: nothing explains it.
   */
  explainBadMac?: () => Promise<string | null>;
  /**
   * Told each step right after the write-ahead intent recorded it (`start`, then every step an
   * operation announces), before the change it announces. Helm sets none; the crash tests kill the
   * process here (test/helpers/crash-point.ts).
   */
  onStepRecorded?: (step: string) => void;
}
