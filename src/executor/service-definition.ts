import type { ContainerCreateOptions } from '../docker/docker-objects.js';
import { LABEL } from '../docker/labels.js';

/**
 * How to create a service that has no container yet (its first release): what the owner's services
 * file (HELM_SERVICES_FILE) will hold per service. Only the fields a first deploy needs today; the
 * file's parser (zod) is not part of this module.
 */
export interface ServiceDefinition {
  /** Inline values only here; secret references come with the services file. */
  env?: Record<string, string>;
  labels?: Record<string, string>;
  cmd?: string[];
  /** Default "host" (the only network mode the tests can reach). */
  networkMode?: string;
  restartPolicy?: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  /** Run an init as PID 1 (busybox images ignore SIGTERM without one). Default true. */
  init?: boolean;
  /** The `ghost.healthcheck` label: http(s)://… or tcp://host:port. */
  healthcheck?: string;
  /** 1 unless set; replicas are named `<service>-<n>` when more than one. */
  replicas?: number;
  /** Named volumes (the services file's `mounts`). No bind mounts: the create guard allows a first release none. */
  mounts?: Array<{ volume: string; target: string; readOnly?: boolean }>;
}

/** Create options for replica `index` (0-based) of a first release; pure. */
export function createOptionsFromDefinition(
  service: string,
  definition: ServiceDefinition,
  image: string,
  environment: string,
  index: number,
  helmLabels: Record<string, string>,
): ContainerCreateOptions {
  const replicas = definition.replicas ?? 1;
  return {
    name: replicas > 1 ? `${service}-${index + 1}` : service,
    Image: image,
    Env: Object.entries(definition.env ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(definition.cmd ? { Cmd: definition.cmd } : {}),
    Labels: {
      ...(definition.labels ?? {}),
      ...(definition.healthcheck ? { [LABEL.healthcheck]: definition.healthcheck } : {}),
      // Identity is Helm's to write, never the definition's extra labels'.
      [LABEL.service]: service,
      [LABEL.environment]: environment,
      ...helmLabels,
    },
    HostConfig: {
      NetworkMode: definition.networkMode ?? 'host',
      Init: definition.init ?? true,
      RestartPolicy: { Name: definition.restartPolicy ?? 'no' },
      ...(definition.mounts && definition.mounts.length > 0
        ? {
            Mounts: definition.mounts.map((m) => ({
              Type: 'volume' as const,
              Source: m.volume,
              Target: m.target,
              ReadOnly: m.readOnly === true,
            })),
          }
        : {}),
    },
  };
}
