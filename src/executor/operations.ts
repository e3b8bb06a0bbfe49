import type { ExecContext } from './exec-context.js';
import { deployService } from './deploy.js';
import { restartService } from './restart.js';
import { rollbackService } from './rollback.js';
import type { ExecOperations } from './run-exec-job.js';
import { stopService } from './stop.js';

/**
 * The operations this Helm's executors carry out, by action: each takes the approved plan's
 * desired state, never the request's, so what runs is exactly what was approved.
 */
export function makeOperations(base: Omit<ExecContext, 'beforeChange'> | null): ExecOperations {
  if (!base) return {};
  const ctx = (beforeChange: ExecContext['beforeChange']): ExecContext => ({ ...base, beforeChange });
  return {
    restart: async (op) =>
      op.plan.action === 'restart'
        ? restartService(ctx(op.beforeChange), op.service, op.plan.desired.timeout_s)
        : mismatch(),
    stop: async (op) =>
      op.plan.action === 'stop'
        ? stopService(ctx(op.beforeChange), op.service, op.plan.desired.timeout_s)
        : mismatch(),
    deploy: async (op) =>
      op.plan.action === 'deploy'
        ? deployService(ctx(op.beforeChange), op.service, op.plan.desired, {
            requestId: op.requestId,
            approvalId: op.approvalId,
            environment: op.plan.environment,
            opId: op.opId,
          })
        : mismatch(),
    rollback: async (op) =>
      op.plan.action === 'rollback'
        ? rollbackService(ctx(op.beforeChange), op.service, op.plan.desired.to_release, {
            requestId: op.requestId,
            approvalId: op.approvalId,
            environment: op.plan.environment,
            opId: op.opId,
            // The release must still run the image the plan names, or the plan is stale.
            expectImageId: op.plan.desired.image_id,
          })
        : mismatch(),
  };
}

function mismatch(): never {
  throw new Error('internal: an operation was handed a plan for another action');
}
