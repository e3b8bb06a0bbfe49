import { makeJobDataText } from '../bus/job-data-text.js';
import { type GateDeps, makeGate } from '../gate/gate.js';
import { makeParkedStore } from '../gate/parked-store.js';
import { makeRequestStateStore } from '../gate/request-state.js';
import { startActionsWorker } from '../../workers/actions.js';
import { startApprovalsWorker } from '../../workers/approvals.js';
import type { HelmParts } from './parts.js';
import { makeInFlightReads, makeUsageReads } from './reads.js';

/** The request path: the gate, and the workers of helm.actions and helm.approvals that feed it. */
export function wireGate(p: HelmParts, hooks: Pick<GateDeps, 'onParked'> = {}): void {
  const { config, clock, logger, redis } = p;
  const parked = makeParkedStore(redis, config.queuePrefix);
  const jobDataText = makeJobDataText(redis);
  const policy = () => p.policy;
  const gate = makeGate({
    ...p.sinks,
    clock,
    docker: p.docker,
    parked,
    states: makeRequestStateStore(redis, config.queuePrefix, config.requestIdWindowS),
    execQueue: p.queues.execFor,
    wardenQueue: p.queues.wardenRequests,
    policy,
    configKey: p.keys.config,
    internalKey: p.keys.internal,
    executorActions: new Set(Object.keys(p.operations)),
    host: config.host,
    retention: p.retention,
    ...p.planSources,
    ...hooks,
  });
  const actions = startActionsWorker(config, {
    ...p.sinks,
    config,
    clock,
    docker: p.docker,
    jobDataText,
    gate,
    policy,
    // status and stats (contract 1.3): what is in flight, and the resource figures.
    reads: { inFlight: makeInFlightReads(p, parked), usage: makeUsageReads(p) },
  });
  p.onClose(() => actions.close());
  const approvals = startApprovalsWorker(config, {
    keyring: p.keyring,
    jobDataText,
    parked,
    ledger: p.ledger,
    runLog: p.runLog,
    alerts: p.alerts,
    actionsQueue: p.queues.actions,
    clock,
    logger,
    skewMs: config.clockSkewMs,
    ...(p.metrics ? { metrics: p.metrics } : {}),
    // Contract 1.5: a decision for another host's plan is consumed by that host's gate.
    forward: {
      host: config.host,
      async to(host, data, jobId) {
        await p.queues.approvalsFor(host).add('decision', data, {
          jobId,
          removeOnComplete: p.retention,
          removeOnFail: p.retention,
        });
      },
    },
  });
  p.onClose(() => approvals.close());
}
