import type { Clock } from '../base/clock.js';
import type { ActionRequest, HostStats } from '../contracts/index.js';
import type { DockerEvidenceReads, DockerReads } from '../docker/docker-ports.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redactor.js';
import type { ClassificationRule } from '../policy/environment-of.js';

/** What an action handler is given: the resolved service and narrow access to the world. */
export interface ActionContext {
  request: ActionRequest;
  /** For `*` (status and stats only): every container in scope, under the name `*`. */
  service: ResolvedService;
  /** The services the target names: one, or for `*` each service in scope (status and stats). */
  services: readonly ResolvedService[];
  docker: DockerReads;
  clock: Clock;
  redactor: Redactor;
  logger: Logger;
  /** The owner's classification, for each container's real environment (status). */
  classification: readonly ClassificationRule[];
  /** What is under way for a service (status); absent: nothing is reported in flight. */
  inFlight?: InFlightReads;
  /** One sample per container and the host's figures (stats); absent: stats is unavailable. */
  usage?: UsageReads;
}

/**
 * Where status learns what is in flight. The executor's lease (bus/lease-probe.ts), its write-ahead
 * intents (intents/) and the gate's parked requests (gate/parked-store.ts) live in layers a safe read
 * may not import: src/wiring/ hands them in through this port.
 */
export interface InFlightReads {
  leaseHeld(service: string): Promise<boolean>;
  intents(): Promise<ReadonlyArray<{ service: string; action: string }>>;
  parked(): Promise<
    ReadonlyArray<{ service: string; approval_id: string; action: string; expires_at: string }>
  >;
}

/** Where stats reads its figures: one Docker stats sample a container, and the host's (CONTRACT 83). */
export interface UsageReads {
  containerStatsOnce: DockerEvidenceReads['containerStatsOnce'];
  host(): Promise<HostStats>;
}

/** A handler's answer; the intake turns it into the final ActionResult. */
export type ActionOutcome =
  | { ok: true; outcome: string; data?: Record<string, unknown> }
  | { ok: false; code: string; message: string; data?: Record<string, unknown> };

export type ActionHandler = (ctx: ActionContext) => Promise<ActionOutcome>;

/** CONTRACT.md: `data` is at most 64 KiB serialised. */
export const MAX_DATA_BYTES = 64 * 1024;
