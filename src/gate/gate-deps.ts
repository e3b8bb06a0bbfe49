import type { Job, Queue } from 'bullmq';
import type { Clock } from '../base/clock.js';
import type { ActionRequest, ApprovalRequest, Environment } from '../contracts/index.js';
import type { DockerReads } from '../docker/docker-ports.js';
import type { PlanInputSources } from '../observe/plan-inputs.js';
import type { Policy } from '../policy/policy.js';
import type { ReleaseStore } from '../releases/release-store.js';
import type { StatusSinks } from '../results/publish-status.js';
import type { ResultSubject } from '../results/result-builder.js';
import type { SecretScopeSources } from '../secrets/secret-scope-check.js';
import type { ParkedStore } from './parked-store.js';
import type { RequestStateStore } from './request-state.js';

/** What the gate's steps use: where results go, what they read, where requests park and execute. */
export interface GateDeps extends StatusSinks, PlanInputSources, SecretScopeSources {
  /** The owner's services file: the environment of a service defined there with no container yet. */
  definedEnvironment?: (service: string) => Environment | null;
  clock: Clock;
  docker: DockerReads;
  parked: ParkedStore;
  states: RequestStateStore;
  /**
   * The exec queue of a plan's host (helm.exec.<host>, contract 1.5): a request parked on one host
   * may be resumed by another host's gate, and its plan still goes to the host it names.
   */
  execQueue: (host: string) => Queue;
  wardenQueue: Queue;
  /**
   * Told of each ApprovalRequest after it went to warden.requests (the advisor's deploy review);
   * never awaited for the request's sake: it must return at once and never throw.
   */
  onParked?: (request: ApprovalRequest) => void;
  policy: () => Policy;
  configKey: Buffer;
  internalKey: Buffer;
  /** The actions an executor can carry out; the others stay unavailable. */
  executorActions: ReadonlySet<string>;
  host: string;
  retention: { age: number; count: number };
  /** Release records, for deploy and rollback plans. */
  releases?: ReleaseStore;
}

/**
 * A request in the gate's hands: its job on helm.actions, the worker's token (to park the job, or to
 * make it wait for its executor, without holding a worker slot), the request, and the subject its
 * results name.
 */
export interface HeldRequest {
  job: Job;
  token: string | undefined;
  request: ActionRequest;
  subject: ResultSubject;
}
