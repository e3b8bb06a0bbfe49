// ActionRequest: the design card's four fields, optional request_id / requested_by, and params that
// are validated per action (a discriminated union on `action`). Strict at every level: an unknown key
// is refused, never ignored. No defaults are filled in (see PARAM_DEFAULTS).
import { z } from 'zod';
import {
  DeployParamsSchema,
  HealthCheckParamsSchema,
  LogsParamsSchema,
  PruneParamsSchema,
  RemoveParamsSchema,
  RestartParamsSchema,
  RollbackParamsSchema,
  ScaleParamsSchema,
  SetEnvParamsSchema,
  StatsParamsSchema,
  StatusParamsSchema,
  StopParamsSchema,
} from './action-params.js';
import type { Action } from './identifiers.js';
import {
  ActionSchema,
  EnvironmentSchema,
  RequestedBySchema,
  RequestIdSchema,
  ScopeTargetSchema,
  TargetSchema,
} from './identifiers.js';
import { parseImageReference } from './image-reference.js';
import { isPlainObject } from './json-value.js';
import { text } from './primitives.js';

export const REASON_MAX_CODE_POINTS = 1000;

/** The fields every action shares. */
export const ActionRequestCommonShape = {
  target: TargetSchema.meta({
    description:
      'A service or container; for prune, a Docker host id ("local" is the engine Helm runs against).',
  }),
  environment: EnvironmentSchema,
  reason: text({ min: 1, max: REASON_MAX_CODE_POINTS, notBlank: true, description: 'Why; not blank.' }),
  requested_by: RequestedBySchema.optional(),
  request_id: RequestIdSchema.optional(),
};

function requestFor<A extends Action, P extends z.ZodType>(action: A, params: P) {
  return z.strictObject({ action: z.literal(action), ...ActionRequestCommonShape, params });
}

const PRODUCTION_DEPLOY_RULE =
  'In production, params must include image_id or manifest_digest. When params.image carries a digest ' +
  'and manifest_digest is given, they must be equal.';

export const DeployRequestSchema = requestFor('deploy', DeployParamsSchema)
  .superRefine((request, ctx) => {
    // Refinements may run on a request whose params already failed: read them defensively.
    const params: Record<string, unknown> = isPlainObject(request.params) ? request.params : {};
    if (
      request.environment === 'production' &&
      params['image_id'] === undefined &&
      params['manifest_digest'] === undefined
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['params'],
        message: 'params.image_id or params.manifest_digest is required for deploy to production',
      });
    }
    const image = typeof params['image'] === 'string' ? parseImageReference(params['image']) : null;
    const digest = image?.ok ? image.reference.digest : null;
    if (
      digest !== null &&
      typeof params['manifest_digest'] === 'string' &&
      params['manifest_digest'] !== digest
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['params', 'manifest_digest'],
        message: 'must equal the digest in params.image',
      });
    }
  })
  .meta({ description: PRODUCTION_DEPLOY_RULE });

export const ScaleRequestSchema = requestFor('scale', ScaleParamsSchema);
export const RestartRequestSchema = requestFor('restart', RestartParamsSchema.optional());
export const StopRequestSchema = requestFor('stop', StopParamsSchema.optional());
export const HealthCheckRequestSchema = requestFor('health_check', HealthCheckParamsSchema.optional());
export const LogsRequestSchema = requestFor('logs', LogsParamsSchema.optional());
export const RollbackRequestSchema = requestFor('rollback', RollbackParamsSchema.optional());
export const RemoveRequestSchema = requestFor('remove', RemoveParamsSchema.optional());
export const SetEnvRequestSchema = requestFor('set_env', SetEnvParamsSchema);
export const PruneRequestSchema = requestFor('prune', PruneParamsSchema);
/** The reads of contract 1.3 also take `*` (everything in Helm's scope) as their target. */
function scopeReadFor<A extends Action, P extends z.ZodType>(action: A, params: P) {
  return z.strictObject({
    action: z.literal(action),
    ...ActionRequestCommonShape,
    target: ScopeTargetSchema,
    params,
  });
}
export const StatusRequestSchema = scopeReadFor('status', StatusParamsSchema.optional());
export const StatsRequestSchema = scopeReadFor('stats', StatsParamsSchema.optional());

export const ActionRequestSchema = z.discriminatedUnion('action', [
  DeployRequestSchema,
  RestartRequestSchema,
  StopRequestSchema,
  ScaleRequestSchema,
  HealthCheckRequestSchema,
  LogsRequestSchema,
  RollbackRequestSchema,
  RemoveRequestSchema,
  SetEnvRequestSchema,
  PruneRequestSchema,
  StatusRequestSchema,
  StatsRequestSchema,
]);

/**
 * The shared fields with `action` as an enum and params unchecked. Used only to report every problem
 * of a request whose action is unknown or missing (the union cannot say more than "no such action").
 */
export const ActionRequestEnvelopeSchema = z.strictObject({
  action: ActionSchema,
  ...ActionRequestCommonShape,
  params: z.unknown().optional(),
});

export type ActionRequest = z.infer<typeof ActionRequestSchema>;
export type ActionRequestFor<A extends Action> = Extract<ActionRequest, { action: A }>;
