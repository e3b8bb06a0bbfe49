import { ADVICE_JOB_NAME } from '../contracts/index.js';
import { activeContainers, resolveTarget } from '../docker/target-resolution.js';
import { listManagedContainers } from '../docker/scope.js';
import { makeDockerEvidenceReads } from '../docker/dockerode-evidence.js';
import { serviceOfContainer } from '../observe/prune-candidates.js';
import { mergeRunLogs } from '../runlog/merge.js';
import { type RunningAdvisor, startAdvisor } from '../../workers/advisor.js';
import type { HelmParts } from './parts.js';

/**
 * The advisor (issue 10) in a process that runs the request path or the monitor: it hears every
 * alert this process sent (after it went out) and diagnoses incidents; the gate tells it of each
 * parked request (deploy review for Warden); a request-path process also consumes helm.requests.
 * Whatever it proposes goes to helm.actions like any request, so through intake and the gate.
 */
export function wireAdvisor(p: HelmParts): RunningAdvisor {
  const { config, clock, logger, docker, releases } = p;
  const managed = () => listManagedContainers(docker, config.scope);
  const running = async (service: string) => {
    const r = resolveTarget(service, await managed());
    return r.ok ? activeContainers(r.service) : null;
  };
  const retention = { removeOnComplete: p.retention, removeOnFail: p.retention };
  const advisor = startAdvisor({
    config,
    logger,
    clock,
    sendAlert: (a) => p.alerts.send(a),
    submit: (r) => p.queues.actions.add(r.action, r, retention),
    sendAdvice: (job) => p.queues.wardenRequests.add(ADVICE_JOB_NAME, job, retention),
    evidence: {
      docker,
      evidenceReads: makeDockerEvidenceReads(config.dockerHost),
      releases,
      runLogEntries: async () => (await mergeRunLogs(config.memoryDir, p.keys.runLog)).entries,
      clock,
    },
    secretValues: async () => {
      const { names } = await p.secrets.scan();
      const values = await Promise.all(names.map((n) => p.secrets.read(n).catch(() => '')));
      return values.filter((v) => v !== '');
    },
    submitContext: async (target) => ({
      recordedReleaseIds: (await releases.listReleases(target)).map((r) => r.id),
      previousReleaseId: (await releases.currentRelease(target))?.previous ?? null,
      currentReplicas:
        (await running(target).catch(() => null))?.filter((c) => c.state === 'running').length ?? null,
    }),
    serviceLabels: async (service) => (await running(service).catch(() => null))?.[0]?.labels ?? null,
    knownServices: async () => [...new Set((await managed()).map((c) => serviceOfContainer(c)))].sort(),
    containerOf: async (service) => (await running(service).catch(() => null))?.[0]?.name ?? null,
    consumeRequests: config.workers.includes('gate'),
  });
  p.alerts.onSent((alert) => advisor.diagnoser?.onAlert(alert));
  p.onClose(() => advisor.close());
  return advisor;
}
