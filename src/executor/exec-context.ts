import type { Metrics } from '../base/metrics.js';
import type { Clock } from '../base/clock.js';
import type { DockerOps, RegistryAuth } from '../docker/docker-ports.js';
import type { Logger } from '../log/logger.js';
import type { PortRange } from '../proxy/instance-port.js';
import type { ProxyPort } from '../proxy/proxy-port.js';
import type { Redactor } from '../log/redactor.js';
import type { SecretStore } from '../secrets/secret-store.js';
import type { ReleaseStore } from '../releases/release-store.js';
import type { ServiceDefinition } from './service-definition.js';

/**
 * What every executor operation is given. The operations change Docker only through `docker`
 * (the narrow, guarded surface) and announce every change through `beforeChange` first.
 */
export interface ExecContext {
  docker: DockerOps;
  clock: Clock;
  logger: Logger;
  redactor: Redactor;
  releases: ReleaseStore;
  memoryDir: string;
  /**
   * How long a new or restored release must stay up (no crash, no restart) after its health check
   * passed. @defaultValue 10_000 (DEFAULT_STABILITY_WINDOW_MS)
   */
  stabilityWindowMs: number;
  /** How long the health check may take to pass. @defaultValue 60_000 (DEFAULT_HEALTH_TIMEOUT_MS) */
  healthTimeoutMs: number;
  /**
   * Called before EVERY Docker change with a step name; it may throw to abort (lease lost). The
   * orchestrator records the write-ahead intent step there. Never skip it. A throw from it is
   * rethrown unchanged by the operation, which then makes no further change (not even a rollback:
   * whoever holds the service now, or recovery, decides).
   */
  beforeChange(step: string, detail?: Record<string, unknown>): Promise<void>;
  /** Registry credentials for a pull (Docker config or HELM_REGISTRY_AUTH_FILE); null for none. */
  registryAuth?: (registry: string) => Promise<RegistryAuth | null>;
  /** The owner's secret store: a rollback that recreates from a record reads secret references here. */
  secrets?: SecretStore;
  /** The owner's services file: how to create a service that has no container yet. */
  definitions?: (service: string) => Promise<ServiceDefinition | null>;
  /**
   * The front proxy (issue 11): a start-first deploy switches a routed service's upstreams through
   * it. Absent: start-first is unavailable (the deploy says so; nothing is changed).
   */
  proxy?: ProxySettingsForExec;
  /** Times each health check and stability window (health-gate.ts); absent: nothing timed. */
  metrics?: Pick<Metrics, 'healthGateTook'>;
}

/** What a start-first deploy needs of the front proxy (HELM_PROXY_*). */
export interface ProxySettingsForExec {
  port: ProxyPort;
  portRange: PortRange;
  /** How long the old instances drain after the switch. */
  drainMs: number;
  /** Where Helm's own port listeners bind (HELM_PROXY_BIND; '' : every address). */
  bindHost: string;
}

export const DEFAULT_STABILITY_WINDOW_MS = 10_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 60_000;
// Read off a container in observe/stop-timeout.ts; named here too for the operations that stop one.
export { DEFAULT_STOP_TIMEOUT_S } from '../observe/stop-timeout.js';

/** Who asked, for the release record and the labels of what Helm creates. */
export interface ExecMeta {
  requestId: string | null;
  approvalId: string | null;
  environment: string;
  /** The operation id (the orchestrator's intent op); labelled `helm.op` on what Helm creates. */
  opId?: string;
  /**
   * Rollback: the image id the approved plan names for the target release (`desired.image_id`).
   * When the record says otherwise, the rollback is refused as stale_plan before any change.
   */
  expectImageId?: string | null;
}

/**
 * A throw from ctx.beforeChange, carried through the operation's own error handling so that no
 * rollback runs after it; the operation rethrows `cause` to its caller.
 */
export class ChangeAbortedError extends Error {
  constructor(
    readonly step: string,
    override readonly cause: unknown,
  ) {
    super(`aborted before step ${step}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = this.constructor.name;
  }
}

/** ctx.beforeChange, with its throw marked so no undo runs after it. */
export async function announce(
  ctx: ExecContext,
  step: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  try {
    await ctx.beforeChange(step, detail);
  } catch (err) {
    throw new ChangeAbortedError(step, err);
  }
}

/** At the edge of every operation: an aborted change surfaces as the orchestrator's own error. */
export function rethrowAbort(err: unknown): void {
  if (err instanceof ChangeAbortedError) throw err.cause;
}
