// Per-action params of an ActionRequest. Every params object is strict: an unknown key is refused
// and the message lists what the action does take.
import { z } from 'zod';
import type { Action } from './identifiers.js';
import { ReleaseIdSchema } from './identifiers.js';
import { ImageReferenceSchema } from './image-reference.js';
import { paramsError } from './params-messages.js';
import { integerRange, Rfc3339UtcSchema, Sha256DigestSchema, text } from './primitives.js';
import { SetEnvParamsSchema } from './set-env-params.js';

/**
 * Values an absent optional param stands for. Schemas never fill them in: a parsed request is exactly
 * the submitted one, so its canonical form (request_id deduplication) is what the requester sent.
 */
export const PARAM_DEFAULTS = {
  // Of a service that is not routed through the front proxy; a routed one defaults to start-first (1.6).
  deploy: { strategy: 'recreate' },
  logs: { tail: 200 },
  remove: { volumes: false, archive: true },
} as const;

export const DEPLOY_STRATEGIES = ['recreate', 'start-first'] as const;
export type DeployStrategy = (typeof DEPLOY_STRATEGIES)[number];
export const PRUNE_WHAT = ['images', 'containers'] as const;

type Shape = Record<string, z.ZodType>;

/** A strict params object whose messages name the action and, when it is missing, what it needs. */
function paramsObject<S extends Shape>(action: Action, shape: S, requiredWhenMissing?: string) {
  return z.strictObject(shape, { error: paramsError(action, Object.keys(shape), requiredWhenMissing) });
}

export const DeployParamsSchema = paramsObject(
  'deploy',
  {
    image: ImageReferenceSchema,
    image_id: Sha256DigestSchema.meta({ description: 'A local image ID.' }).optional(),
    manifest_digest: Sha256DigestSchema.meta({
      description: 'A registry manifest digest: Helm pulls repository@digest.',
    }).optional(),
    artifact_id: text({ min: 1, max: 128, notBlank: true, description: "Forge's build id." }).optional(),
    strategy: z
      .enum(DEPLOY_STRATEGIES)
      .meta({
        description:
          'Absent: start-first for a service routed through the front proxy (1.6: ghost.route.port or ghost.route.host), else recreate.',
      })
      .optional(),
  },
  'image',
);

export const ScaleParamsSchema = paramsObject('scale', { replicas: integerRange(0, 50) }, 'replicas');

const timeoutShape = { timeout_s: integerRange(1, 600).optional() };
export const RestartParamsSchema = paramsObject('restart', timeoutShape);
export const StopParamsSchema = paramsObject('stop', timeoutShape);

export const LogsParamsSchema = paramsObject('logs', {
  tail: integerRange(1, 10_000).optional(),
  since: Rfc3339UtcSchema.optional(),
});

export const RollbackParamsSchema = paramsObject('rollback', {
  to: ReleaseIdSchema.meta({
    description: 'A release id as Helm lists them; absent: the previous release.',
  }).optional(),
});

export const RemoveParamsSchema = paramsObject('remove', {
  volumes: z.boolean().optional(),
  archive: z.boolean().optional(),
});

export const PruneParamsSchema = paramsObject('prune', { what: z.enum(PRUNE_WHAT) }, 'what');

export const HealthCheckParamsSchema = paramsObject('health_check', {});

export const StatusParamsSchema = paramsObject('status', {});
export const StatsParamsSchema = paramsObject('stats', {});

export { SetEnvParamsSchema };

export type DeployParams = z.infer<typeof DeployParamsSchema>;
export type ScaleParams = z.infer<typeof ScaleParamsSchema>;
export type RestartParams = z.infer<typeof RestartParamsSchema>;
export type StopParams = z.infer<typeof StopParamsSchema>;
export type LogsParams = z.infer<typeof LogsParamsSchema>;
export type RollbackParams = z.infer<typeof RollbackParamsSchema>;
export type RemoveParams = z.infer<typeof RemoveParamsSchema>;
export type PruneParams = z.infer<typeof PruneParamsSchema>;
export type HealthCheckParams = z.infer<typeof HealthCheckParamsSchema>;
