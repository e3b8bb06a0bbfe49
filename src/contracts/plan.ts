// The plan (plan_version 1): what Warden judges and signs the hash of. Hashed as a whole, so every
// list in it has one order (sorted, no repeats) and every number is a bounded integer.
import { z } from 'zod';
import { DEPLOY_STRATEGIES, PRUNE_WHAT } from './action-params.js';
import type { Action } from './identifiers.js';
import {
  ContainerIdSchema,
  EnvironmentSchema,
  EnvNameSchema,
  HostIdSchema,
  ReleaseIdSchema,
  RequestedBySchema,
  RequestIdSchema,
  SecretNameSchema,
  TargetSchema,
} from './identifiers.js';
import { ImageReferenceSchema } from './image-reference.js';
import { integerRange, Sha256DigestSchema, Sha256HexSchema, text } from './primitives.js';
import { InlineEnvValueSchema } from './set-env-params.js';

/** Sorted ascending by UTF-16 code units (JavaScript's `<`), no repeats: the order JCS uses for keys. */
export function isStrictlySorted(items: readonly string[]): boolean {
  for (let i = 1; i < items.length; i++) if (!((items[i - 1] as string) < (items[i] as string))) return false;
  return true;
}

function sortedUnique<T extends z.ZodType<string>>(item: T, what: string) {
  return z
    .array(item)
    .refine(isStrictlySorted, { error: `must be sorted ascending with no repeats (${what})` })
    .meta({ description: `Sorted ascending (by UTF-16 code units), no repeats: ${what}.` });
}

export const PlanContainerSchema = z.strictObject({
  id: ContainerIdSchema,
  image_id: Sha256DigestSchema,
  config_hmac: Sha256HexSchema.meta({
    description: "HMAC-SHA256 under Helm's key of the canonical container configuration: opaque to Warden.",
  }),
});

export const PreconditionsSchema = z.strictObject({
  containers: z
    .array(PlanContainerSchema)
    .refine((cs) => isStrictlySorted(cs.map((c) => c.id)), { error: 'must be sorted by id with no repeats' })
    .meta({ description: 'Sorted by id, no repeats; the replica count is its length.' }),
});

const DeployDesiredSchema = z.strictObject({
  image: ImageReferenceSchema,
  image_id: Sha256DigestSchema.nullable(),
  manifest_digest: Sha256DigestSchema.nullable(),
  artifact_id: text({ min: 1, max: 128, notBlank: true }).nullable(),
  strategy: z.enum(DEPLOY_STRATEGIES),
  replaces_release: ReleaseIdSchema.nullable(),
  new_release: ReleaseIdSchema,
});
const TimeoutDesiredSchema = z.strictObject({ timeout_s: integerRange(1, 600) });
const ScaleDesiredSchema = z.strictObject({
  replicas: integerRange(0, 50),
  // Exactly which containers go (stopped and removed): Warden signs the choice, not just a count.
  remove_containers: sortedUnique(ContainerIdSchema, 'the ids of the containers the scale removes'),
});
const RemoveDesiredSchema = z.strictObject({ volumes: z.boolean(), archive: z.boolean() });

export const PlannedEnvValueSchema = z.union([
  z.strictObject({ value: InlineEnvValueSchema }),
  z.strictObject({
    secret: SecretNameSchema,
    hmac_sha256: Sha256HexSchema.meta({
      description: "HMAC-SHA256 of the secret's UTF-8 value under Helm's key.",
    }),
  }),
]);
const SetEnvDesiredSchema = z
  .strictObject({
    set: z.record(EnvNameSchema, PlannedEnvValueSchema),
    unset: sortedUnique(EnvNameSchema, 'names'),
  })
  .refine((d) => !d.unset.some((name) => Object.hasOwn(d.set, name)), {
    error: 'a name may not be both set and unset',
  });
const RollbackDesiredSchema = z.strictObject({ to_release: ReleaseIdSchema, image_id: Sha256DigestSchema });

const PRUNE_ITEM = /^(?:sha256:)?[0-9a-f]{64}$/;
const PruneDesiredSchema = z
  .strictObject({
    what: z.enum(PRUNE_WHAT),
    items: sortedUnique(
      z.string().regex(PRUNE_ITEM, { error: 'must be an image id (sha256:…) or a container id (64 hex)' }),
      'image ids "sha256:<64 hex>" for images, container ids "<64 hex>" for containers',
    ),
  })
  .refine((d) => d.items.every((id) => id.startsWith('sha256:') === (d.what === 'images')), {
    error: 'items must be image ids for images and container ids for containers',
  });

const planShape = {
  plan_version: z.literal(1),
  host: HostIdSchema,
  service: TargetSchema.meta({ description: 'The resolved service (for prune: the host id).' }),
  environment: EnvironmentSchema.meta({
    description: "The service's real environment, not the requested one.",
  }),
  request_id: RequestIdSchema.nullable(),
  requested_by: RequestedBySchema.nullable(),
  preconditions: PreconditionsSchema,
};

function planFor<A extends Action, D extends z.ZodType>(action: A, desired: D) {
  return z.strictObject({ ...planShape, action: z.literal(action), desired });
}

/** Only the actions that can change something have a plan: health_check and logs are never gated. */
export const PlanSchema = z
  .discriminatedUnion('action', [
    planFor('deploy', DeployDesiredSchema),
    planFor('restart', TimeoutDesiredSchema),
    planFor('stop', TimeoutDesiredSchema),
    planFor('scale', ScaleDesiredSchema).refine(
      (p) => p.desired.remove_containers.every((id) => p.preconditions.containers.some((c) => c.id === id)),
      { error: 'remove_containers must name containers of preconditions.containers' },
    ),
    planFor('remove', RemoveDesiredSchema),
    planFor('set_env', SetEnvDesiredSchema),
    planFor('rollback', RollbackDesiredSchema),
    planFor('prune', PruneDesiredSchema),
  ])
  .meta({
    description:
      'Lists are sorted ascending by UTF-16 code units with no repeats (preconditions.containers by id, ' +
      'set_env unset, prune items, scale remove_containers); scale removes only containers of its preconditions; set_env may not both set and unset a name; prune items are image ids ' +
      'for images and container ids for containers. plan_hash = lowercase hex SHA-256 of the RFC 8785 form.',
  });

export const PLANNED_ACTIONS = [
  'deploy',
  'restart',
  'stop',
  'scale',
  'remove',
  'set_env',
  'rollback',
  'prune',
] as const;
export type PlannedAction = (typeof PLANNED_ACTIONS)[number];

export type Plan = z.infer<typeof PlanSchema>;
export type PlanFor<A extends PlannedAction> = Extract<Plan, { action: A }>;
export type PlanContainer = z.infer<typeof PlanContainerSchema>;
export type PlannedEnvValue = z.infer<typeof PlannedEnvValueSchema>;
