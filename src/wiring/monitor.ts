import { makeLeaseManager } from '../executor/lease.js';
import { makeIntentStore } from '../intents/intent-store.js';
import { withDiskCleanup } from '../monitor/disk-cleanup.js';
import { makeLeaseProbe } from '../bus/lease-probe.js';
import { makeIncidentBoardWriter } from '../bus/incident-board.js';
import { startIncidentPublisher } from '../monitor/incident-publisher.js';
import { makeIntendedCheck } from '../monitor/intended.js';
import { DEFAULT_RESOURCE_RULES, type ResourceRules } from '../monitor/resource-rules.js';
import { observeHost } from '../observe/observe-target.js';
import { type MonitorDeps, startMonitor } from '../../workers/monitor.js';
import { wireInventory } from './inventory.js';
import type { HelmParts } from './parts.js';

/**
 * The monitor (workers/monitor.ts): Docker's events, host resources, health pings, log growth, the
 * helm.actions backlog and the report for doctor, on this process's Docker engine.
 */
export async function wireMonitor(p: HelmParts, events: MonitorDeps['events']): Promise<void> {
  const { config, clock, logger, redis, docker } = p;
  // Its incidents for the status page, which may run in another process (README, "Owner's endpoints").
  const incidents = startIncidentPublisher({
    // A disk above its threshold also asks the gate to prune what Helm made and no longer needs.
    alerts: withDiskCleanup(p.alerts, {
      docker,
      submit: async (request) => {
        await p.queues.actions.add('prune', request, {
          removeOnComplete: p.retention,
          removeOnFail: p.retention,
        });
      },
      hostEnvironment: async () => {
        const host = await observeHost(docker, config.host, config.host, config.scope, p.policy.classify);
        return host.ok ? host.environment : 'production';
      },
      host: config.host,
      logger,
    }),
    board: makeIncidentBoardWriter(redis, config.queuePrefix),
    clock,
    logger,
    host: config.host,
    refreshMs: config.heartbeatIntervalMs,
  });
  p.onClose(() => incidents.close());
  const monitor = await startMonitor({
    // Dev auto-restart needs the executor's Docker surface; with a read-only Docker it restarts nothing.
    docker,
    events,
    scope: config.scope,
    classification: p.policy.classify,
    alerts: incidents.alerts,
    runLog: p.runLog,
    clock,
    logger: logger.child({ worker: 'monitor' }),
    isIntended: makeIntendedCheck({
      intents: makeIntentStore(config.memoryDir),
      leaseHeld: makeLeaseProbe(redis, config.queuePrefix, config.host),
      clock,
    }),
    // A short lease of its own: an auto-restart that waits must not hold the executor's line.
    ...(p.opsDocker ? { leases: makeLeaseManager(redis, config.queuePrefix, 2_000) } : {}),
    host: config.host,
    memoryDir: config.memoryDir,
    hostRoot: config.hostRoot,
    // Health pings (a BullMQ job scheduler), the queue-backlog check and the report for doctor.
    bus: { redisUrl: config.redisUrl, prefix: config.queuePrefix },
    resources: { intervalMs: config.resourceIntervalMs, rules: resourceRules(config) },
  });
  p.onClose(() => monitor.close());
  // What this host holds, for routing and for `helm status` on every host (issue 13).
  wireInventory(p, incidents.alerts);
}

/** The design card's resource rules with the configured thresholds and window. */
function resourceRules(config: HelmParts['config']): ResourceRules {
  return {
    cpu: {
      ...DEFAULT_RESOURCE_RULES.cpu,
      threshold: config.thresholds.cpu,
      windowMs: config.resourceWindowMs,
    },
    memory: {
      ...DEFAULT_RESOURCE_RULES.memory,
      threshold: config.thresholds.memory,
      windowMs: config.resourceWindowMs,
    },
    disk: { ...DEFAULT_RESOURCE_RULES.disk, threshold: config.thresholds.disk },
  };
}
