// Diagnosis of incidents on real crashed containers: routing (a dev crash loop → the default model; a
// production container killed → the escalation model), each fallback, no model at all, the
// degraded alert once and its resolution, one diagnosis per incident, and a canary secret that never
// leaves Helm.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { DiagnosisDetails } from '../../../src/contracts/index.js';
import { AlertSchema } from '../../../src/contracts/index.js';
import { runScriptContainer, waitFor } from '../../helpers/containers.js';
import { removeTestContainers, testDocker } from '../../helpers/docker.js';
import { anthropicToolUse, FakeAnthropic, overloaded } from '../../helpers/fake-anthropic.js';
import { FakeOllama, ollamaError, ollamaText } from '../../helpers/fake-ollama.js';
import { crashLoopContainer } from './advisor-harness.js';
import { adviceFor, diagnoserRig, incidentAlert } from './diagnosis-harness.js';

afterAll(async () => {
  await removeTestContainers();
});

const devCrashLoop = () =>
  crashLoopContainer({
    stem: 'helm-test-diag-loop',
    cmd: ['/bin/sh', '-c', 'echo "fatal: cannot open /data/app.db"; exit 3'],
  });

/** A production web container killed for real (exit 137); its env and its log carry `canary`. */
async function killedProductionWeb(canary = 'nothing-secret-here'): Promise<string> {
  const { name } = await runScriptContainer('echo "serving with token $API_TOKEN"; sleep 300', {
    env: [`API_TOKEN=${canary}`],
  });
  await waitFor(
    async () => (await testDocker().getContainer(name).logs({ stdout: true })).length > 0,
    'the first log line',
  );
  await testDocker().getContainer(name).kill();
  await waitFor(async () => !(await testDocker().getContainer(name).inspect()).State.Running, 'the kill');
  return name;
}

const detailsOf = (alert: { details?: unknown }) => alert.details as DiagnosisDetails;

describe('diagnosing an incident', () => {
  it('a dev crash loop: diagnosed by the default model, the escalation model never asked; restart submitted', async () => {
    const name = await devCrashLoop();
    const ollama = new FakeOllama([
      ollamaText(JSON.stringify(adviceFor(name, 'The database file is missing.'))),
    ]);
    const anthropic = new FakeAnthropic([]);
    const rig = await diagnoserRig({ ollama, anthropic });

    const result = await rig.diagnoser.diagnose(incidentAlert('crash_loop', name, 'dev'));

    expect(anthropic.calls).toHaveLength(0);
    expect(ollama.calls).toHaveLength(1);
    const alert = result!.alert;
    expect(
      AlertSchema.safeParse({ ...alert, alert_id: crypto.randomUUID(), at: new Date().toISOString() })
        .success,
    ).toBe(true);
    expect(alert).toMatchObject({
      kind: 'diagnosis',
      target: name,
      environment: 'dev',
      dedup_key: `crash_loop:${name}`,
    });
    expect(detailsOf(alert)).toMatchObject({ model: 'qwen3-coder', escalated: false, trigger: null });
    expect(detailsOf(alert).summary).toBe('The database file is missing.');
    expect(rig.submitted).toEqual([
      expect.objectContaining({
        action: 'restart',
        target: name,
        environment: 'dev',
        requested_by: 'helm-advisor',
      }),
    ]);
    expect(detailsOf(alert).proposals[0]).toMatchObject({
      submitted: true,
      request_id: rig.submitted[0]!.request_id,
    });
    // The prompt says what fenced text is, and the log line reaches the model fenced only.
    const prompt = JSON.stringify(ollama.calls[0]!.body);
    expect(prompt).toContain('may contain attacks');
    expect(prompt).toMatch(/<data-[0-9a-f-]+ id=\\"log-1\\">fatal: cannot open/);
  });

  it('one diagnosis per incident; after it ends, the same evidence is answered from the cache', async () => {
    const name = await devCrashLoop();
    const ollama = new FakeOllama([ollamaText(JSON.stringify(adviceFor(name, 'Missing file.', [])))]);
    const rig = await diagnoserRig({ ollama, anthropic: new FakeAnthropic([]) });
    const incident = incidentAlert('crash_loop', name, 'dev');

    expect(await rig.diagnoser.diagnose(incident)).not.toBeNull();
    expect(await rig.diagnoser.diagnose({ ...incident, alert_id: crypto.randomUUID() })).toBeNull();
    await rig.diagnoser.diagnose({ ...incident, kind: 'recovered' });
    const again = await rig.diagnoser.diagnose({ ...incident, alert_id: crypto.randomUUID() });

    expect(again?.cached).toBe(true);
    expect(ollama.calls).toHaveLength(1);
    expect(rig.alerts.filter((a) => a.kind === 'diagnosis')).toHaveLength(2);
  });

  it('a production container killed: the escalation model diagnoses it; the default model is not asked', async () => {
    const name = await killedProductionWeb();
    const anthropic = new FakeAnthropic([
      anthropicToolUse([
        { name: 'submit_advice', input: adviceFor(name, 'It was killed from outside (exit 137, not OOM).') },
      ]),
    ]);
    const ollama = new FakeOllama([]);
    const rig = await diagnoserRig({ ollama, anthropic });

    const result = await rig.diagnoser.diagnose(incidentAlert('downtime', name, 'production'));

    expect(ollama.calls).toHaveLength(0);
    expect(detailsOf(result!.alert)).toMatchObject({
      model: 'claude-sonnet-4-6',
      escalated: true,
      trigger: 'active_outage',
      summary: 'It was killed from outside (exit 137, not OOM).',
    });
    expect(JSON.stringify(anthropic.calls[0]!.body)).toContain('exit code 137');
    expect(rig.submitted).toEqual([
      expect.objectContaining({ action: 'restart', environment: 'production' }),
    ]);
  });

  it('the escalation model overloaded: the default model answers and the diagnosis says so', async () => {
    const name = await killedProductionWeb();
    const anthropic = new FakeAnthropic(() => overloaded());
    const ollama = new FakeOllama([ollamaText(JSON.stringify(adviceFor(name, 'Killed.', [])))]);
    const rig = await diagnoserRig({ ollama, anthropic });

    const result = await rig.diagnoser.diagnose(incidentAlert('downtime', name, 'production'));

    const details = detailsOf(result!.alert);
    expect(details).toMatchObject({ model: 'qwen3-coder', escalated: false, trigger: 'active_outage' });
    expect(details.note).toMatch(/escalation model claude-sonnet-4-6 did not answer \(overloaded/);
    expect(rig.alerts.some((a) => a.kind === 'helm_degraded')).toBe(false);
  });

  it('no model answers: the deterministic summary says so; helm_degraded:advisor once, resolved when a model answers', async () => {
    const first = await killedProductionWeb();
    const second = await devCrashLoop();
    let down = true;
    const ollama = new FakeOllama(() =>
      down
        ? ollamaError(500, 'model runner crashed')
        : ollamaText(JSON.stringify(adviceFor(second, 'Back.', []))),
    );
    const rig = await diagnoserRig({ ollama, anthropic: new FakeAnthropic([]), apiKey: null });

    const a = await rig.diagnoser.diagnose(incidentAlert('downtime', first, 'production'));
    const b = await rig.diagnoser.diagnose(incidentAlert('crash_loop', second, 'dev'));

    for (const d of [a, b]) {
      expect(detailsOf(d!.alert)).toMatchObject({ model: null, escalated: false, proposals: [] });
      expect(detailsOf(d!.alert).note).toMatch(/^No model answered/);
      expect(detailsOf(d!.alert).unknowns.join(' ')).toContain("Helm's own analysis, without a model");
    }
    expect(detailsOf(a!.alert).summary).toContain('exit code 137');
    expect(rig.alerts.filter((x) => x.kind === 'helm_degraded')).toEqual([
      expect.objectContaining({ dedup_key: 'helm_degraded:advisor', severity: 'warning' }),
    ]);

    down = false;
    const later = await rig.diagnoser.diagnose({
      ...incidentAlert('crash_loop', second, 'dev'),
      dedup_key: 'crash_loop:another-incident',
    });
    expect(detailsOf(later!.alert).model).toBe('qwen3-coder');
    expect(rig.alerts.filter((x) => x.dedup_key === 'helm_degraded:advisor').map((x) => x.kind)).toEqual([
      'helm_degraded',
      'resolved',
    ]);
  });

  it('a canary secret in the env, in the logs and in the secret store never reaches a model server, an alert or a log line', async () => {
    const canary = `canary-${randomBytes(8).toString('hex')}`;
    const name = await killedProductionWeb(canary);
    const anthropic = new FakeAnthropic(() =>
      anthropicToolUse([{ name: 'submit_advice', input: adviceFor(name, 'Killed.', []) }]),
    );
    const ollama = new FakeOllama(() => ollamaText(JSON.stringify(adviceFor(name, 'Killed.', []))));
    const rig = await diagnoserRig({ ollama, anthropic, secretValues: [canary] });

    rig.diagnoser.onAlert(incidentAlert('downtime', name, 'production'));
    await rig.diagnoser.idle();

    expect(anthropic.calls.length).toBeGreaterThan(0);
    expect(anthropic.everythingReceived()).not.toContain(canary);
    expect(anthropic.everythingReceived()).toContain('serving with token [masked-');
    expect(ollama.everythingReceived()).not.toContain(canary);
    expect(JSON.stringify(rig.alerts)).not.toContain(canary);
    expect(rig.alerts.map((a) => a.kind)).toEqual(['diagnosis']);
    expect(rig.logLines.join('\n')).not.toContain(canary);
  });
});
