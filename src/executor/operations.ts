import type { ExecContext, ExecMeta } from './exec-context.js';
import { deployService } from './deploy.js';
import { pruneHost } from './prune.js';
import { removeService } from './remove.js';
import { restartService } from './restart.js';
import { rollbackService } from './rollback.js';
import type { ExecOperationContext, ExecOperations } from './run-exec-job.js';
import { scaleService } from './scale.js';
import { setEnvService } from './set-env.js';
import { stopService } from './stop.js';

/**
 * The operations this Helm's executors carry out, by action: each takes the approved plan's
 * desired state, never the request's, so what runs is exactly what was approved.
 */
export function makeOperations(base: Omit<ExecContext, 'beforeChange'> | null): ExecOperations {
  if (!base) return {};
  // Each operation's log lines (its steps and their durations) name the operation and the service.
  const ctx = (op: ExecOperationContext): ExecContext => ({
    ...base,
    logger: base.logger.child({ op: op.opId, action: op.plan.action, service: op.service.name }),
    beforeChange: op.beforeChange,
  });
  return {
    restart: async (op) =>
      op.plan.action === 'restart'
        ? restartService(ctx(op), op.service, op.plan.desired.timeout_s)
        : mismatch(),
    stop: async (op) =>
      op.plan.action === 'stop' ? stopService(ctx(op), op.service, op.plan.desired.timeout_s) : mismatch(),
    deploy: async (op) =>
      op.plan.action === 'deploy'
        ? deployService(ctx(op), op.service, op.plan.desired, {
            requestId: op.requestId,
            approvalId: op.approvalId,
            environment: op.plan.environment,
            opId: op.opId,
          })
        : mismatch(),
    rollback: async (op) =>
      op.plan.action === 'rollback'
        ? rollbackService(ctx(op), op.service, op.plan.desired.to_release, {
            requestId: op.requestId,
            approvalId: op.approvalId,
            environment: op.plan.environment,
            opId: op.opId,
            // The release must still run the image the plan names, or the plan is stale.
            expectImageId: op.plan.desired.image_id,
          })
        : mismatch(),
    // scale, remove, set_env, prune (scale.ts, remove.ts, set-env.ts, prune.ts)
    scale: async (op) =>
      op.plan.action === 'scale'
        ? scaleService(
            ctx(op),
            op.service,
            op.plan.desired.replicas,
            meta(op),
            op.plan.desired.remove_containers,
          )
        : mismatch(),
    remove: async (op) =>
      op.plan.action === 'remove'
        ? removeService(ctx(op), op.service, op.plan.desired, meta(op))
        : mismatch(),
    set_env: async (op) =>
      op.plan.action === 'set_env'
        ? setEnvService(ctx(op), op.service, op.plan.desired, meta(op))
        : mismatch(),
    prune: async (op) =>
      op.plan.action === 'prune' ? pruneHost(ctx(op), op.plan.host, op.plan.desired) : mismatch(),
  };
}

function meta(op: ExecOperationContext): ExecMeta {
  return {
    requestId: op.requestId,
    approvalId: op.approvalId,
    environment: op.plan.environment,
    opId: op.opId,
  };
}

function mismatch(): never {
  throw new Error('internal: an operation was handed a plan for another action');
}
