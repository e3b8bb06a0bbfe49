// The advisor's composition (workers/advisor.ts) from Helm's configuration, on the test Redis: on,
// an incident alert gets its diagnosis from the default model named by config; off, no diagnosis,
// and `helm ask` is still answered (unavailable) by the helm.requests worker.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlertToSend } from '../../../src/advisor/model-runner.js';
import { systemClock } from '../../../src/base/clock.js';
import { askInPlainWords } from '../../../src/cli/ask-command.js';
import { loadConfig } from '../../../src/config/config.js';
import type { ActionRequest } from '../../../src/contracts/index.js';
import { makeDockerEvidenceReads } from '../../../src/docker/dockerode-evidence.js';
import { makeDockerReads } from '../../../src/docker/dockerode-reads.js';
import { makeReleaseStore } from '../../../src/releases/release-store.js';
import { type AdvisorPorts, startAdvisor } from '../../../workers/advisor.js';
import { FakeOllama, ollamaText } from '../../helpers/fake-ollama.js';
import { TEST_REDIS_URL } from '../../helpers/helm.js';
import { freshPrefix } from '../../helpers/queue-prefix.js';
import { capturedLogger, crashLoopContainer, started } from './advisor-harness.js';
import { adviceFor, incidentAlert } from './diagnosis-harness.js';

function ports(env: Record<string, string>) {
  const alerts: AlertToSend[] = [];
  const submitted: ActionRequest[] = [];
  const config = loadConfig({ REDIS_URL: TEST_REDIS_URL, HELM_QUEUE_PREFIX: freshPrefix(), ...env });
  const p: AdvisorPorts = {
    config,
    logger: capturedLogger().logger,
    clock: systemClock,
    sendAlert: async (a) => alerts.push(a),
    submit: async (r) => submitted.push(r),
    sendAdvice: async () => undefined,
    evidence: {
      docker: makeDockerReads(undefined),
      evidenceReads: makeDockerEvidenceReads(undefined),
      releases: makeReleaseStore(mkdtempSync(join(tmpdir(), 'helm-advisor-wiring-'))),
      runLogEntries: async () => [],
      clock: systemClock,
    },
    secretValues: async () => [],
    submitContext: async () => ({ recordedReleaseIds: [], previousReleaseId: null, currentReplicas: 1 }),
    serviceLabels: async () => null,
    knownServices: async () => ['web'],
  };
  return { p, alerts, submitted, config };
}

describe('startAdvisor', () => {
  it('on: an incident alert is diagnosed by the default model the config names; the restart is submitted', async () => {
    const name = await crashLoopContainer({ stem: 'helm-test-wiring', cmd: ['/bin/sh', '-c', 'exit 5'] });
    const ollama = await started(new FakeOllama([ollamaText(JSON.stringify(adviceFor(name, 'Exits 5.')))]));
    const { p, alerts, submitted } = ports({ OLLAMA_HOST: ollama.url });
    const advisor = startAdvisor(p);
    try {
      advisor.diagnoser!.onAlert(incidentAlert('crash_loop', name, 'dev'));
      await advisor.diagnoser!.idle();
      expect(alerts.map((a) => a.kind)).toEqual(['diagnosis']);
      expect(submitted).toEqual([expect.objectContaining({ action: 'restart', target: name })]);
      expect(JSON.parse(ollama.calls[0]!.raw).model).toBe('qwen3-coder');
    } finally {
      await advisor.close();
    }
  });

  it('off: no diagnosis, no review; helm ask is answered unavailable', async () => {
    const { p, config } = ports({ HELM_ADVISOR: 'off' });
    const advisor = startAdvisor(p);
    try {
      expect(advisor.diagnoser).toBeNull();
      expect(advisor.reviewer).toBeNull();
      const answer = await askInPlainWords(config, 'restart web in staging', {
        submit: false,
        timeoutMs: 20_000,
      });
      expect(answer).toMatchObject({ outcome: 'unavailable', model: null, requests: [] });
      expect(answer.note).toContain('HELM_ADVISOR=off');
    } finally {
      await advisor.close();
    }
  });
});
