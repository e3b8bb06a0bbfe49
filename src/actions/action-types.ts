import type { Clock } from '../base/clock.js';
import type { ActionRequest } from '../contracts/index.js';
import type { DockerReads } from '../docker/docker-ports.js';
import type { ResolvedService } from '../docker/target-resolution.js';
import type { Logger } from '../log/logger.js';
import type { Redactor } from '../log/redactor.js';

/** What an action handler is given: the resolved service and narrow access to the world. */
export interface ActionContext {
  request: ActionRequest;
  service: ResolvedService;
  docker: DockerReads;
  clock: Clock;
  redactor: Redactor;
  logger: Logger;
}

/** A handler's answer; the intake turns it into the final ActionResult. */
export type ActionOutcome =
  | { ok: true; outcome: string; data?: Record<string, unknown> }
  | { ok: false; code: string; message: string; data?: Record<string, unknown> };

export type ActionHandler = (ctx: ActionContext) => Promise<ActionOutcome>;

/** CONTRACT.md: `data` is at most 64 KiB serialised. */
export const MAX_DATA_BYTES = 64 * 1024;
