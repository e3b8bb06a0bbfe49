import type { AdviceJob, ActionRequest } from '../src/contracts/index.js';
import { PLAIN_REQUEST_QUEUE } from '../src/contracts/index.js';
import { type DeployReviewer, makeDeployReviewer } from '../src/advisor/deploy-review.js';
import { type IncidentDiagnoser, makeIncidentDiagnoser } from '../src/advisor/diagnose-incident.js';
import { advisorHealthAlerts, type AlertToSend, type ModelRunner } from '../src/advisor/model-runner.js';
import type { SubmitContext, SubmittableKind } from '../src/advisor/advisor-submit-policy.js';
import type { Clock } from '../src/base/clock.js';
import { type RunningWorker, startWorker } from '../src/bus/start-worker.js';
import type { Config } from '../src/config/config.js';
import type { Logger } from '../src/log/logger.js';
import { modelChainFromConfig } from '../src/models/model-call.js';
import { type EvidenceDeps, type EvidenceRequest, gatherEvidence } from '../src/observe/gather-evidence.js';
import { makePlainRequestHandler } from './requests.js';

/**
 * The advisor's composition (issue 10), for helm.ts to start with Helm's own ports: the model chain
 * from config (its outage raised as helm_degraded:advisor), the incident diagnoser, the deploy
 * reviewer, and the helm.requests worker. Nothing here waits on a model for Helm's core: the
 * diagnoser and the reviewer are fire-and-forget, called after the alert or the ApprovalRequest went
 * out. HELM_ADVISOR=off: no diagnosis and no review; helm.requests still answers, `unavailable`.
 */
export interface AdvisorPorts {
  config: Readonly<Config>;
  logger: Logger;
  clock: Clock;
  /** sentinel.alerts (AlertSender.send). */
  sendAlert(alert: AlertToSend): Promise<unknown>;
  /** helm.actions, as any producer adds a request (job name: the action). */
  submit(request: ActionRequest): Promise<unknown>;
  /** warden.requests, job name `advice`. */
  sendAdvice(job: AdviceJob): Promise<unknown>;
  evidence: EvidenceDeps;
  /** The owner's secret-store values (masked before anything reaches a model). */
  secretValues(): Promise<Iterable<string>>;
  submitContext(target: string): Promise<Omit<SubmitContext, 'allowed'>>;
  serviceLabels(service: string): Promise<Readonly<Record<string, string>> | null>;
  knownServices(): Promise<readonly string[]>;
  /** The container to read for a service when an incident names none (its first replica), or null. */
  containerOf?(service: string): Promise<string | null>;
  /** Whether this process consumes helm.requests (the request path's processes do). @defaultValue true */
  consumeRequests?: boolean;
}

export interface RunningAdvisor {
  /** Call with every alert Helm sent (after it went out): diagnoses incidents, forgets ended ones. */
  diagnoser: IncidentDiagnoser | null;
  /** Call with every ApprovalRequest after it went to warden.requests. */
  reviewer: DeployReviewer | null;
  /** null in a process that does not consume helm.requests. */
  requestsWorker: RunningWorker | null;
  close(): Promise<void>;
}

const OFF: ModelRunner = {
  run: async () => ({ model: null, tried: [], note: 'The advisor is off (HELM_ADVISOR=off).' }),
};

export function startAdvisor(ports: AdvisorPorts): RunningAdvisor {
  const { config, logger } = ports;
  const log = logger.child({ component: 'advisor' });
  const on = config.advisor.enabled;
  const models = on ? modelChainFromConfig(config, logger, advisorHealthAlerts(ports.sendAlert)) : OFF;
  const ask = { models, secretValues: ports.secretValues, timeoutMs: config.advisor.timeoutMs };
  const gather = async (req: EvidenceRequest) => {
    const container = req.container ?? (await ports.containerOf?.(req.target).catch(() => null));
    return gatherEvidence(ports.evidence, { ...req, container: container ?? null });
  };
  const diagnoser = on
    ? makeIncidentDiagnoser({
        ...ask,
        gather,
        modelNames: { default: config.advisor.defaultModel, escalation: config.advisor.escalationModel },
        submitContext: ports.submitContext,
        allowed: new Set<SubmittableKind>(config.advisor.submit),
        submit: ports.submit,
        send: ports.sendAlert,
        log,
      })
    : null;
  const reviewer = on
    ? makeDeployReviewer({
        ...ask,
        gather,
        serviceLabels: ports.serviceLabels,
        sendAdvice: ports.sendAdvice,
        log,
        now: () => ports.clock.now(),
      })
    : null;
  const handler = makePlainRequestHandler({
    ...ask,
    submit: ports.submit,
    knownServices: ports.knownServices,
    log,
    now: () => ports.clock.now(),
  });
  const requestsWorker =
    ports.consumeRequests === false
      ? null
      : startWorker(config, PLAIN_REQUEST_QUEUE, handler, { concurrency: 2, logger });
  return {
    diagnoser,
    reviewer,
    requestsWorker,
    async close() {
      await requestsWorker?.close();
      await Promise.all([diagnoser?.idle(), reviewer?.idle()]);
    },
  };
}
