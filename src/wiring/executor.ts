import type { Config } from '../config/config.js';
import type { ExecDeps } from '../executor/exec-deps.js';
import { makeLeaseManager } from '../executor/lease.js';
import { makeOperations } from '../executor/operations.js';
import { recoverOrphanedIntents } from '../executor/recovery/orphan-sweep.js';
import { makeRecovery } from '../executor/recovery/recover-interrupted-operation.js';
import { makeServiceDefinitions, type ServicesFile } from '../executor/services-file.js';
import { makeIntentStore } from '../intents/intent-store.js';
import { makeCaddyAdmin } from '../proxy/caddy-admin.js';
import type { Policy } from '../policy/policy.js';
import { startExecWorker } from '../../workers/exec.js';
import type { HelmParts } from './parts.js';

/** What the executors' operations (and crash recovery) run with, and the operations; null base: read-only. */
export function makeExecution(
  p: Pick<
    HelmParts,
    'config' | 'clock' | 'logger' | 'redactor' | 'opsDocker' | 'releases' | 'secrets' | 'metrics'
  >,
  policy: Policy,
  services: ServicesFile | null,
): Pick<HelmParts, 'execBase' | 'operations'> {
  const config: Readonly<Config> = p.config;
  const execBase: HelmParts['execBase'] = p.opsDocker
    ? {
        docker: p.opsDocker,
        clock: p.clock,
        logger: p.logger,
        redactor: p.redactor,
        releases: p.releases,
        memoryDir: config.memoryDir,
        // The owner's policy may only lengthen the window.
        stabilityWindowMs: Math.max(config.stabilityWindowMs, (policy.stabilityWindowS ?? 0) * 1000),
        healthTimeoutMs: config.healthTimeoutMs,
        secrets: p.secrets,
        // The owner's services file: how to create a service that has no container yet.
        ...(services ? { definitions: makeServiceDefinitions(services, p.secrets) } : {}),
        compose: { command: config.composeCommand },
        ...(p.metrics ? { metrics: p.metrics } : {}),
        // Start-first deploys switch routed services through the front proxy (issue 11).
        proxy: {
          port: makeCaddyAdmin({ adminUrl: config.proxy.adminUrl }),
          portRange: config.proxy.portRange,
          drainMs: config.proxy.drainMs,
          bindHost: config.proxy.bindHost,
        },
      }
    : null;
  return { execBase, operations: makeOperations(execBase) };
}

/**
 * The executor: the worker of helm.exec, and crash recovery (src/executor/recovery/): an exec job
 * that comes back after its worker died is reconciled instead of run again; at start-up, so are
 * intents whose exec job is gone or ended.
 */
export function wireExecutor(p: HelmParts, hooks: Pick<ExecDeps, 'onStepRecorded'> = {}): void {
  const { config, clock, logger } = p;
  const leases = makeLeaseManager(p.redis, config.queuePrefix, config.leaseTtlMs);
  const intents = makeIntentStore(config.memoryDir);
  const recovery = p.execBase ? makeRecovery(p.execBase) : null;
  const executor = startExecWorker(config, {
    internalKey: p.keys.internal,
    configKey: p.keys.config,
    keyring: p.keyring,
    policy: () => p.policy,
    ledger: p.ledger,
    runLog: p.runLog,
    alerts: p.alerts,
    docker: p.docker,
    leases,
    intents,
    operations: p.operations,
    ...p.planSources,
    clock,
    logger,
    host: config.host,
    skewMs: config.clockSkewMs,
    leaseRetryMs: 250,
    timeoutMs: config.actionTimeoutMs,
    recovery,
    explainBadMac: p.explainBadMac,
    ...hooks,
  });
  p.onClose(() => executor.close());
  const orphans = recoverOrphanedIntents({
    recovery,
    intents,
    execQueue: p.queues.exec,
    leases,
    runLog: p.runLog,
    alerts: p.alerts,
    internalKey: p.keys.internal,
    host: config.host,
    logger,
    clock,
    timeoutMs: config.actionTimeoutMs,
  });
  p.onClose(() => orphans.stop());
}
