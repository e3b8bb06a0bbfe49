import type { InFlightReads, UsageReads } from '../actions/action-types.js';
import type { Clock } from '../base/clock.js';
import type { JobDataText } from '../bus/job-data-text.js';
import type { Config } from '../config/config.js';
import type { DockerReads } from '../docker/docker-ports.js';
import type { Gate } from '../gate/gate.js';
import type { Policy } from '../policy/policy.js';
import type { StatusSinks } from '../results/publish-status.js';

/**
 * What intake needs, shared by its steps (handle-action-job.ts reads them in order): where results
 * go (StatusSinks), the clock, Docker reads, the stored job text, the gate and the owner's policy.
 */
export interface IntakeDeps extends StatusSinks {
  config: Pick<Config, 'maxAttempts' | 'scope'>;
  clock: Clock;
  docker: DockerReads;
  /** The job's stored JSON text (bus/job-data-text.ts), checked for a repeated key. */
  jobDataText: JobDataText;
  /** The gate, for actions that change something; without it they are answered unavailable. */
  gate?: Gate;
  /** The owner's policy: reads consult it only for deny rules that name them. */
  policy?: () => Policy;
  /**
   * What status and stats read besides Docker (contract 1.3), handed in by src/wiring/: what is in
   * flight (the executor's lease and intents, the gate's parked requests: layers intake may not
   * import) and the resource figures. Without them status reports nothing in flight and stats is
   * unavailable.
   */
  reads?: { inFlight?: InFlightReads; usage?: UsageReads };
}
