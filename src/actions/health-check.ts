import { lookAtContainer } from '../health/container-health.js';
import type { ActionHandler } from './action-types.js';

/** A safe read: one look at every container of the service (no stability window). */
export const healthCheck: ActionHandler = async ({ service, docker, clock }) => {
  const looks = await Promise.all(
    service.containers.map(async (c) => lookAtContainer(await docker.inspectContainer(c.id), clock)),
  );
  const healthy = looks.length > 0 && looks.every((l) => l.healthy);
  const good = looks.filter((l) => l.healthy).length;
  const summary = healthy
    ? `${service.name} is healthy (${good}/${looks.length} ${plural(looks.length)}: ${looks.map((l) => l.detail).join('; ')})`
    : `${service.name} is unhealthy (${good}/${looks.length} ${plural(looks.length)} healthy: ${looks
        .filter((l) => !l.healthy)
        .map((l) => `${l.name}: ${l.detail}`)
        .join('; ')})`;
  return { ok: true, outcome: summary, data: { healthy, service: service.name, containers: looks } };
};

function plural(n: number): string {
  return n === 1 ? 'container' : 'containers';
}
