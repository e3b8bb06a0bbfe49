// The advisor inside a real Helm (src/wiring/advisor.ts): a production web container killed for real
// reaches sentinel.alerts as a downtime alert first, then as a `diagnosis` alert from the escalation
// model (trigger 2: an active production outage) that links the incident and names its cause. The
// restart it proposes is an ordinary request: it parks for Warden and nothing runs the container
// again. A canary secret in the container's env never reaches the model server.
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DiagnosisDetails } from '../../../src/contracts/index.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { anthropicToolUse, FakeAnthropic } from '../../helpers/fake-anthropic.js';
import { advisorOnEnv } from './advisor-harness.js';
import { FakeOllama } from '../../helpers/fake-ollama.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { adviceFor } from './diagnosis-harness.js';

const service = uniqueName('diag-e2e');
const canary = `canary-${randomBytes(12).toString('hex')}`;
const cause = 'It was killed from outside (exit 137, signal 9), not by the kernel (OOMKilled false).';
const anthropic = new FakeAnthropic([
  anthropicToolUse([{ name: 'submit_advice', input: adviceFor(service, cause) }]),
]);
const ollama = new FakeOllama([]);
let t: TestHelm;
let bus: BusClient;
let warden: Queue;

beforeAll(async () => {
  await anthropic.start();
  await ollama.start();
  t = await startTestHelm({
    ...advisorOnEnv(ollama, anthropic),
  });
  bus = await busClient(t.prefix);
  warden = new Queue('warden.requests', { connection: bus.redis, prefix: t.prefix });
});

afterAll(async () => {
  await warden?.close();
  await bus?.close();
  await t?.close();
  await anthropic.close();
  await ollama.close();
  await removeTestContainers();
});

describe('a diagnosis from a running Helm', () => {
  it('production kill → downtime first, then the escalation model’s diagnosis; its restart parks for Warden', async () => {
    const web = await startWebService({
      labels: { ...t.scopeLabel, 'ghost.service': service, 'ghost.environment': 'production' },
      env: { API_TOKEN: canary },
    });
    // The monitor learns a container when it starts; give it a moment to read this one's facts.
    await new Promise((r) => setTimeout(r, 1500));
    await testDocker().getContainer(web.id).kill();

    const alerts = async () => (await bus.alertsSent()).filter((a) => a['target'] === service);
    await waitFor(
      async () => (await alerts()).some((a) => a['kind'] === 'diagnosis'),
      'a diagnosis alert',
      60_000,
    );
    const sent = await alerts();
    const down = sent.find((a) => a['kind'] === 'downtime')!;
    const diagnosis = sent.find((a) => a['kind'] === 'diagnosis')!;
    expect(down).toBeDefined();
    // The incident's alert went out first: the diagnosis never holds it back.
    expect(Date.parse(String(down['at']))).toBeLessThanOrEqual(Date.parse(String(diagnosis['at'])));
    const details = diagnosis['details'] as DiagnosisDetails;
    expect(diagnosis['dedup_key']).toBe(down['dedup_key']);
    expect(details).toMatchObject({
      incident: { alert_id: down['alert_id'], dedup_key: down['dedup_key'] },
      model: 'claude-sonnet-4-6',
      escalated: true,
    });
    expect(details.summary).toBe(cause);
    expect(ollama.calls).toHaveLength(0);
    expect(anthropic.calls.length).toBeGreaterThan(0);
    expect(JSON.stringify(anthropic.calls)).not.toContain(canary);
    expect(JSON.stringify(sent)).not.toContain(canary);

    // The proposed restart is a production request like any other: it waits for Warden.
    const restart = details.proposals.find((p) => p.request.action === 'restart');
    expect(restart).toMatchObject({ submitted: true });
    await waitFor(
      async () =>
        (await warden.getJobs(['waiting', 'active', 'completed'], 0, -1)).some(
          (j) => j.data?.request?.target === service && j.data?.request?.requested_by === 'helm-advisor',
        ),
      'the advisor’s restart to park for Warden',
      30_000,
    );
    expect((await testDocker().getContainer(web.id).inspect()).State.Running).toBe(false);
  });
});
