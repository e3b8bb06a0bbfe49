import type { Queue } from 'bullmq';
import type { Keyring } from '../approval/index.js';
import type { Clock } from '../base/clock.js';
import type { Metrics } from '../base/metrics.js';
import type { AlertSender } from '../bus/alert-sender.js';
import type { JobDataText } from '../bus/job-data-text.js';
import type { Logger } from '../log/logger.js';
import type { RunLog } from '../runlog/index.js';
import type { ApprovalLedger } from '../runlog/approval-ledger.js';
import type { ParkedStore } from './parked-store.js';

/** What the decision handler (handle-decision.ts) and its forwarding (forward-decision.ts) work with. */
export interface DecisionDeps {
  keyring(): Keyring;
  /** The decision job's stored JSON text (bus/job-data-text.ts). */
  jobDataText: JobDataText;
  parked: ParkedStore;
  ledger: ApprovalLedger;
  runLog: RunLog;
  alerts: AlertSender;
  actionsQueue: Queue;
  clock: Clock;
  logger: Logger;
  skewMs: number;
  /** Times each accepted decision from the request's parking (requested_at); absent: nothing timed. */
  metrics?: Pick<Metrics, 'approvalWaited'>;
  /**
   * Several hosts (contract 1.5): this host's id, and how a decision for a plan on another host is
   * handed to that host's gate (gate/forward-decision.ts); absent: every decision is handled here.
   */
  forward?: { host: string; to(host: string, data: ForwardedDecision, jobId: string): Promise<void> };
}

export interface DecisionOutcome {
  outcome: 'accepted' | 'info' | 'security';
  reason: string;
  approval_id: string | null;
}

/** A decision handed to its plan's host (forward-decision.ts): its stored text, unparsed. */
export interface ForwardedDecision {
  v: 1;
  /** The decision job's data exactly as it rested in Redis. */
  text: string;
  /** The helm.approvals job it came from. */
  from_job: string;
}
