import { status } from '../actions/status.js';
import type { AlertSender } from '../bus/alert-sender.js';
import { makeHostDownClaims, makeInventoryReader, makeInventoryWriter } from '../bus/host-inventory.js';
import { type ActionRequest, StatusDataSchema } from '../contracts/index.js';
import { servicesInScope } from '../docker/scope.js';
import { startHostWatch } from '../monitor/host-watch.js';
import { INVENTORY_TTL_FACTOR, startInventoryPublisher } from '../monitor/inventory-publisher.js';
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
 * `status *` reads them; and the watch on the other hosts' inventories (host_down, recovered, sent
 * through `alerts`: the monitor's, so that they show on the status page too).
 */
export function wireInventory(p: HelmParts, alerts: Pick<AlertSender, 'send'>): void {
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
  // The other hosts: host_down when one publishes nothing for three refreshes, recovered on return.
  const watch = startHostWatch({
    reader: makeInventoryReader(p.redis, config.queuePrefix),
    claims: makeHostDownClaims(p.redis, config.queuePrefix),
    alerts,
    clock,
    logger,
    host: config.host,
    boundMs: config.heartbeatIntervalMs * INVENTORY_TTL_FACTOR,
    intervalMs: config.heartbeatIntervalMs,
  });
  p.onClose(() => watch.close());
}
