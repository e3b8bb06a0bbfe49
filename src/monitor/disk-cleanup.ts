import type { AlertInput, AlertSender } from '../bus/alert-sender.js';
import type { Environment } from '../contracts/index.js';
import type { DockerReads } from '../docker/docker-ports.js';
import type { Logger } from '../log/logger.js';

/**
 * Disk above its threshold: Helm asks, through its own gate like any other agent, to prune what it
 * made and no longer needs (superseded release containers, images only its release tags hold). Where
 * the host's strongest managed environment is dev or staging the gate runs it at once; where
 * production runs, it parks for Warden. The alert also says what else takes the space (images,
 * container layers, volumes, build cache), for the owner to decide: Helm deletes nothing more.
 */
export interface DiskCleanupDeps {
  docker: Pick<DockerReads, 'diskUsage'>;
  /** Adds an ActionRequest to helm.actions, as any agent would. */
  submit(request: Record<string, unknown>): Promise<void>;
  /** The host's strongest managed environment (the gate checks it again: a mismatch is refused). */
  hostEnvironment(): Promise<Environment>;
  /** This host's id: the prune's target, so that only this host's Helm prunes (never "local" on a shared bus). */
  host: string;
  logger: Logger;
}

export function withDiskCleanup(alerts: AlertSender, deps: DiskCleanupDeps): AlertSender {
  const handled = new Set<string>();
  return {
    async send(input: AlertInput) {
      if (input.kind !== 'disk_high' || handled.has(input.dedup_key)) return alerts.send(input);
      handled.add(input.dedup_key);
      let enriched = input;
      try {
        const usage = await deps.docker.diskUsage();
        const environment = await deps.hostEnvironment();
        for (const what of ['containers', 'images'] as const) {
          await deps.submit({
            action: 'prune',
            target: deps.host,
            environment,
            reason: `disk cleanup: ${input.message}`.slice(0, 1000),
            requested_by: 'helm-monitor',
            request_id: `helm-monitor:disk:${input.dedup_key}:${what}`
              .slice(0, 128)
              .replace(/[^A-Za-z0-9_.:-]/g, '-'),
            params: { what },
          });
        }
        const gib = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GiB`;
        enriched = {
          ...input,
          message: `${input.message}. Helm asked to prune what it made and no longer needs (${environment === 'production' ? 'waiting for Warden, production runs here' : 'runs at once'}); Docker also holds images ${gib(usage.images)}, container layers ${gib(usage.containers)}, volumes ${gib(usage.volumes)}, build cache ${gib(usage.buildCache)}: the rest is the owner's to free`,
          details: {
            ...(input.details ?? {}),
            docker_usage_bytes: usage,
            cleanup: { requested: ['containers', 'images'], environment },
          },
        };
      } catch (err) {
        deps.logger.error({ err }, 'disk cleanup could not be requested');
      }
      return alerts.send(enriched);
    },
  };
}
