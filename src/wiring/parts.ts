import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Keyring } from '../approval/index.js';
import type { Clock } from '../base/clock.js';
import type { Metrics } from '../base/metrics.js';
import type { ObservedAlertSender } from '../bus/alert-sender.js';
import type { Config } from '../config/config.js';
import type { ComposeSettings } from '../executor/compose/compose-target.js';
import type { ExecContext } from '../executor/exec-context.js';
import type { ExecOperations } from '../executor/run-exec-job.js';
import type { GateDeps } from '../gate/gate.js';
import type { WardenKeys } from '../gate/warden-keys.js';
import type { IntakeDeps } from '../intake/handle-action-job.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redactor.js';
import type { Policy } from '../policy/policy.js';
import type { ReleaseStore } from '../releases/release-store.js';
import type { StatusSinks } from '../results/publish-status.js';
import type { ApprovalLedger } from '../runlog/approval-ledger.js';
import type { RunLog } from '../runlog/index.js';
import type { SecretStore } from '../secrets/secret-store.js';

/**
 * "local" in a prune's target: the host the request reaches (contract 1.5, decision 91). Plans never
 * carry it: they name the host id (config.host, HELM_HOST_ID).
 */
export { LOCAL_ALIAS as LOCAL_HOST } from '../config/host-id.js';

/** Helm's key, and the keys derived from it for each use (keys/helm-key.ts). */
export interface HelmKeys {
  helm: Buffer;
  /** The MAC of exec jobs between a gate and an executor. */
  internal: Buffer;
  runLog: Buffer;
  config: Buffer;
  secret: Buffer;
}

/** The queues this process sends to (the workers consume through their own connections). */
export interface BusQueues {
  actions: Queue;
  alerts: Queue;
  /** The queues other agents consume, watched for an absent consumer or a growing backlog. */
  watched: Queue[];
  wardenRequests: Queue;
  /** This host's exec queue (helm.exec.<host>): its executors' and the orphan sweep's. */
  exec: Queue;
  /** Any host's exec queue, opened once and closed at shutdown: where the gate hands a plan. */
  execFor(host: string): Queue;
  /** Any host's queue of forwarded decisions (helm.approvals.<host>). */
  approvalsFor(host: string): Queue;
}

/**
 * What the gate and the executor's re-check both read before a plan: one object, so that both are
 * given the same sources (observe/plan-inputs.ts, secrets/secret-scope-check.ts).
 */
export type PlanSources = Pick<
  GateDeps,
  'releases' | 'secrets' | 'secretKey' | 'scope' | 'definedEnvironment' | 'secretScopes' | 'definedSecrets'
>;

/** What start-up opened, shared by the wiring of each worker kind (src/wiring/*.ts). */
export interface HelmParts {
  config: Readonly<Config>;
  clock: Clock;
  logger: Logger;
  redactor: Redactor;
  /** What Helm counts for /metrics (the HTTP server's); null: the server is off, nothing counted. */
  metrics: Metrics | null;
  /** Registers a shutdown step (they run in reverse). */
  onClose(step: () => Promise<void> | void): void;
  /** Helm's command connection; workers open their own blocking ones. */
  redis: Redis;
  runLog: RunLog;
  alerts: ObservedAlertSender;
  sinks: StatusSinks;
  queues: BusQueues;
  /** What the gate and the monitor read Docker with. */
  docker: IntakeDeps['docker'];
  /** Docker's change surface; null: a read-only Docker (tests, bench), so this Helm changes nothing. */
  opsDocker: ExecContext['docker'] | null;
  keys: HelmKeys;
  /** Why an exec job's MAC may fail without a forgery (another live key on this bus), or null. */
  explainBadMac(): Promise<string | null>;
  /** Warden's public keys (wardenKeys.reload on SIGHUP); keyring() reads the current ones. */
  wardenKeys: WardenKeys;
  keyring(): Keyring;
  policy: Policy;
  ledger: ApprovalLedger;
  secrets: SecretStore;
  releases: ReleaseStore;
  planSources: PlanSources;
  /** What the executors' operations (and crash recovery) run with; null: a read-only Docker. */
  execBase: (Omit<ExecContext, 'beforeChange'> & { compose: ComposeSettings }) | null;
  operations: ExecOperations;
  /** Job retention within the request_id window and the count bound. */
  retention: { age: number; count: number };
}
