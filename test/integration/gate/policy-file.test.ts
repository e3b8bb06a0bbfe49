// The owner's policy file on a real Helm: a tightening is obeyed (staging restarts need Warden), a
// deny is enforced even for reads, and a file that would loosen the design card stops start-up.
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StartupError } from '../../../src/helm.js';
import { removeTestContainers, startWebService, testDocker } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import { type BusClient, busClient, startTestHelm, type TestHelm } from '../../helpers/helm.js';
import { waitForStatus } from '../../helpers/warden.js';

let h: TestHelm | undefined;
let bus: BusClient | undefined;
afterAll(async () => {
  await bus?.close();
  await h?.close();
  await removeTestContainers();
});

async function policyFile(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(os.tmpdir(), 'helm-policy-')), 'policy.yml');
  await writeFile(file, text);
  return file;
}

describe("the owner's policy file", () => {
  it('is obeyed: a staging restart waits for Warden, a denied read is refused', async () => {
    const file = await policyFile(
      [
        'require_approval:',
        '  - environment: staging',
        '    actions: [restart]',
        'deny:',
        '  - environment: staging',
        '    actions: [logs]',
        '',
      ].join('\n'),
    );
    h = await startTestHelm({ HELM_POLICY_FILE: file });
    bus = await busClient(h.prefix);
    const name = uniqueName('pol');
    const web = await startWebService({ labels: { 'ghost.service': name, 'ghost.environment': 'staging' } });
    const before = (await testDocker().getContainer(web.id).inspect()).State.StartedAt;

    const job = await bus.send({
      action: 'restart',
      target: name,
      environment: 'staging',
      reason: 'owner says ask first',
    });
    const pending = await waitForStatus(bus.actions, job, 'pending_approval');
    expect(String(pending.outcome)).toMatch(/waiting for Warden/);
    expect((await testDocker().getContainer(web.id).inspect()).State.StartedAt).toBe(before);

    const logs = await bus.request({ action: 'logs', target: name, environment: 'staging', reason: 'peek' });
    expect(logs).toMatchObject({ status: 'failed', error: { code: 'denied' } });
    // Staging stop is not named: it still runs without approval.
    const stop = await bus.request({
      action: 'stop',
      target: name,
      environment: 'staging',
      reason: 'not named in the file',
    });
    expect(stop.status).toBe('executed');
  });

  it('that would loosen the design card stops start-up, naming the line', async () => {
    const file = await policyFile(
      [
        'require_approval:',
        '  - environment: staging',
        '    actions: [deploy]',
        'allow:',
        '  - environment: production',
        '    actions: [restart]',
        '',
      ].join('\n'),
    );
    const err = await startTestHelm({ HELM_POLICY_FILE: file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupError);
    expect((err as StartupError).problems.join('\n')).toMatch(
      /line 4: key "allow" would loosen the design card's rules/,
    );
  });
});
