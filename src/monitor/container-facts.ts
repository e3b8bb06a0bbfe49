import type { ContainerInspect } from '../docker/docker-objects.js';
import type { DockerReads } from '../docker/docker-ports.js';
import { LABEL, PROTECTED_ROLES } from '../docker/labels.js';
import { type ClassificationRule, environmentOf } from '../policy/environment-of.js';
import type { ContainerFacts } from './container-state.js';
import { dockerTime, type Observed } from './reconcile.js';

/** Roles Helm never changes (the gate's rule): itself and the bus. */

/** The service a container belongs to, by the executor's resolution order. */
export function serviceOf(labels: Readonly<Record<string, string>>, name: string): string {
  return labels[LABEL.service] || labels[LABEL.composeService] || name.replace(/^\//, '');
}

/** What the monitor keeps about a container, from one inspect (and its image's labels). */
export async function factsOf(
  info: ContainerInspect,
  docker: Pick<DockerReads, 'inspectImage'>,
  classification: readonly ClassificationRule[],
): Promise<ContainerFacts> {
  const labels = info.Config?.Labels ?? {};
  const name = info.Name.replace(/^\//, '');
  // An image that cannot be inspected may have set any label: its ghost.* labels lower nothing.
  const image = await docker.inspectImage(info.Image).catch(() => null);
  const { environment } = environmentOf({
    containerName: name,
    containerLabels: labels,
    imageLabels: image ? (image.Config?.Labels ?? null) : 'unknown',
    classification,
  });
  const test = info.Config?.Healthcheck?.Test;
  const policy = info.HostConfig?.RestartPolicy;
  return {
    id: info.Id,
    name,
    service: serviceOf(labels, name),
    environment,
    hasDockerHealthcheck: Array.isArray(test) && test.length > 0 && test[0] !== 'NONE',
    restartPolicy: { name: policy?.Name ?? '', maximumRetryCount: policy?.MaximumRetryCount ?? 0 },
    restartCount: info.RestartCount ?? 0,
    protectedRole: PROTECTED_ROLES.has(labels[LABEL.role] ?? ''),
  };
}

export function observedOf(info: ContainerInspect): Observed {
  const st = info.State;
  const running = st.Running === true && st.Restarting !== true;
  return {
    id: info.Id,
    running,
    health: st.Health?.Status ?? null,
    startedAt: dockerTime(st.StartedAt),
    finishedAt: dockerTime(st.FinishedAt),
    restartCount: info.RestartCount ?? 0,
    exitCode: running ? null : (st.ExitCode ?? null),
    oomKilled: st.OOMKilled === true,
  };
}

/** Docker's last health-check output, for the unhealthy alert. */
export function lastHealthOutput(info: ContainerInspect): string | null {
  const log = (info.State.Health as { Log?: Array<{ Output?: string }> } | undefined)?.Log;
  const last = log?.[log.length - 1]?.Output;
  return last ? last.trim().slice(0, 500) : null;
}
