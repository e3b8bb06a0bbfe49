import { status } from '../actions/status.js';
import { makeInventoryWriter } from '../bus/host-inventory.js';
import { type ActionRequest, StatusDataSchema } from '../contracts/index.js';
import { servicesInScope } from '../docker/scope.js';
import { startInventoryPublisher } from '../monitor/inventory-publisher.js';
import { summariseServices } from '../monitor/inventory-summary.js';
import type { HelmParts } from './parts.js';

/** The status read's request for everything in scope: the inventory is what `status *` would say. */
const STATUS_ALL = {
  action: 'status',
  target: '*',
  environment: 'production',
  reason: 'the host inventory',
} as ActionRequest;

/**
 * This host's inventory on the bus (issue 13, bus/host-inventory.ts), refreshed by the monitor at the
 * heartbeat's pace: every service in scope with its environment, release and health, read exactly as
 * `status *` reads them.
 */
export function wireInventory(p: HelmParts): void {
  const { config, clock, logger, docker } = p;
  const publisher = startInventoryPublisher({
    async read() {
      const services = servicesInScope(await docker.listContainers(), config.scope);
      const all = services.flatMap((s) => s.containers);
      const read = await status({
        request: STATUS_ALL,
        service: { name: '*', via: 'ghost.service', composeProject: null, containers: all },
        services,
        docker,
        clock,
        redactor: p.redactor,
        logger,
        classification: p.policy.classify,
      });
      if (!read.ok) throw new Error(read.message);
      const data = StatusDataSchema.parse(read.data);
      return { services: summariseServices(data.containers), truncated: data.truncated };
    },
    writer: makeInventoryWriter(p.redis, config.queuePrefix),
    clock,
    logger,
    host: config.host,
    refreshMs: config.heartbeatIntervalMs,
  });
  p.onClose(() => publisher.close());
}
