// Names and ids that appear in requests, plans and results. The patterns are the contract's; the
// messages say the same thing in words, without quoting the refused value (it may be hostile).
import { z } from 'zod';
import { patternString } from './primitives.js';

export const ACTIONS = [
  'deploy',
  'restart',
  'stop',
  'scale',
  'health_check',
  'logs',
  'rollback',
  'remove',
  'set_env',
  'prune',
  'status',
  'stats',
] as const;
export type Action = (typeof ACTIONS)[number];
export const ActionSchema = z.enum(ACTIONS);

export function isAction(value: unknown): value is Action {
  return typeof value === 'string' && (ACTIONS as readonly string[]).includes(value);
}

export const ENVIRONMENTS = ['production', 'staging', 'dev'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const EnvironmentSchema = z.enum(ENVIRONMENTS);

export const TARGET_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;
export const TARGET_MESSAGE =
  "must start with a letter or digit and contain only letters, digits, '_', '.', '-' (at most 128)";
/** A service or container name; for prune a Docker host id ("local" is Helm's own engine). */
export const TargetSchema = patternString(TARGET_PATTERN, TARGET_MESSAGE);
/** What status and stats take (contract 1.3): a service or container, or `*` for everything in scope. */
export const ALL_IN_SCOPE = '*';
export const ScopeTargetSchema = z
  .union([z.literal(ALL_IN_SCOPE), TargetSchema])
  .meta({ description: 'A service or container, or "*": every container in Helm\'s scope.' });
/** A Docker host id, as in a plan's `host` and prune's target. */
export const HostIdSchema = TargetSchema;

export const REQUESTED_BY_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const RequestedBySchema = patternString(
  REQUESTED_BY_PATTERN,
  "must start with a lowercase letter or digit and contain only a-z, 0-9, '_', '.', '-' (at most 64)",
  'Self-declared requester: informational, never authority.',
);

export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const RequestIdSchema = patternString(
  REQUEST_ID_PATTERN,
  "must start with a letter or digit and contain only letters, digits, '_', '.', ':', '-' (at most 128)",
  'One id names one request on the whole bus; namespace it, e.g. forge:build-42.',
);

// The contract leaves the release id format to Helm: the request_id alphabet, so ids such as
// "openclaw-gateway:2026-11-29T17-06-10Z:3" or a UUID both fit.
export const RELEASE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const ReleaseIdSchema = patternString(
  RELEASE_ID_PATTERN,
  "must be a release id: a letter or digit, then letters, digits, '_', '.', ':', '-' (at most 128)",
);

export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
export const ENV_NAME_MESSAGE =
  "must be an environment variable name: a letter or '_', then letters, digits, '_' (at most 128)";
export const EnvNameSchema = patternString(ENV_NAME_PATTERN, ENV_NAME_MESSAGE);

export const SECRET_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
export const SecretNameSchema = patternString(
  SECRET_NAME_PATTERN,
  "must be a secret name: a letter or digit, then letters, digits, '_', '.', '-' (at most 128)",
);

/** A Docker container id in full: 64 lowercase hex. */
export const ContainerIdSchema = patternString(
  /^[0-9a-f]{64}$/,
  'must be a full container id (64 lowercase hex digits)',
);

/** A BullMQ job id as Helm echoes it. Producers may choose their own, so only its size is bounded. */
export const JobIdSchema = patternString(
  /^[^\u0000-\u001f]{1,256}$/u,
  'must be a job id (1 to 256 characters)',
);
