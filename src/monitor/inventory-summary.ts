import type { ContainerStatus, Environment } from '../contracts/index.js';
import type { InventoryService } from '../bus/host-inventory.js';

const RANK: Readonly<Record<Environment, number>> = { dev: 0, staging: 1, production: 2 };

/**
 * A host's services from its containers as the status read sees them (pure): one line per service,
 * sorted by name, with its strongest environment, the release its running containers carry (the
 * newest-started one's when they differ), how many run, and whether every running one is healthy.
 */
export function summariseServices(containers: readonly ContainerStatus[]): InventoryService[] {
  const byService = new Map<string, ContainerStatus[]>();
  for (const c of containers) byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  return [...byService.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([service, cs]) => {
      const running = cs.filter((c) => c.running);
      const newest = [...running].sort((a, b) => String(b.started_at).localeCompare(String(a.started_at)))[0];
      return {
        service,
        environment: cs.reduce<Environment>(
          (e, c) => (RANK[c.environment] > RANK[e] ? c.environment : e),
          'dev',
        ),
        release: newest?.release ?? null,
        containers: cs.length,
        running: running.length,
        healthy: running.length > 0 && running.every((c) => c.healthy),
      };
    });
}
