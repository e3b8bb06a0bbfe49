// Crash recovery makes the same identity check (verify-release-identity.ts) as the operation it
// finishes: a deploy whose process died after the switch is recorded as executed only when Docker
// shows the containers carrying the service's identity on the new release. On the real engine: a
// deploy through the harness stops (as kill -9 would) at its last step, recording the release; the
// injected fault is a container of the service left on the old release, started right then. The
// recovery, driven directly with the intent the orchestrator would have on disk, must fail with
// the truth and roll the release back, never report the request executed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployService } from '../../../src/executor/deploy.js';
import type { ExecContext, ExecMeta } from '../../../src/executor/exec-context.js';
import type { Intent } from '../../../src/intents/intent-store.js';
import { recoverOperation } from '../../../src/executor/recovery/recover-interrupted-operation.js';
import { STEP } from '../../../src/executor/steps.js';
import { uniqueName } from '../../helpers/containers.js';
import { removeTestContainers, testDocker, WEB_IMAGE_V1, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import {
  type Harness,
  httpText,
  inspect,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
  type StartedContainer,
  startLabelledStray,
  startServiceContainer,
} from './exec-harness.js';

const service = uniqueName('recid');
const copyName = `${service}-copy`;
const op = `op-${service}`;
const meta: ExecMeta = { requestId: 't:recover-identity', approvalId: null, environment: 'dev', opId: op };
let h: Harness;
let web: StartedContainer;
let v1 = '';
let v2 = '';

class Killed extends Error {}

beforeAll(async () => {
  h = makeHarness({ stabilityWindowMs: 500 });
  v1 = (await testDocker().getImage(WEB_IMAGE_V1).inspect()).Id;
  v2 = (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id;
  web = await startServiceContainer({ service, name: service, labels: { 'ghost.environment': 'dev' } });
});

afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags([service]);
  if (h) removeHarnessDir(h.memoryDir);
});

describe('crash recovery reports a release executed only when Docker shows the service running it', () => {
  it('a container of the service left on the old release fails the recovered deploy, which is rolled back', async () => {
    const startedAt = new Date();
    let tags = 0;
    // The deploy stops where a kill -9 during its stability window would leave it: the switch made,
    // the new release not recorded (the second tag_release_image: the first tags the adopted r1).
    // The fault, right then: a copy of the old release carrying the service's identity runs.
    const crashing: ExecContext = {
      ...h.ctx,
      async beforeChange(step) {
        if (step !== STEP.tagReleaseImage || ++tags < 2) return;
        const old = await inspect(`${service}-helm-r1`);
        await startLabelledStray({ name: copyName, image: old.Image, labels: old.Config.Labels });
        throw new Killed('kill -9');
      },
    };
    const crashed = await deployService(
      crashing,
      await resolveService(service),
      {
        image: WEB_IMAGE_V2,
        image_id: v2,
        manifest_digest: null,
        artifact_id: null,
        strategy: 'recreate',
        replaces_release: null,
        new_release: 'r2',
      },
      meta,
    );
    // Nothing of Helm's ran after the kill: the switch stands, r2 is not recorded.
    expect(crashed, JSON.stringify(crashed)).toMatchObject({
      ok: false,
      message: expect.stringMatching(/kill -9$/),
    });
    expect((await inspect(service)).Image).toBe(v2);
    expect((await h.ctx.releases.currentRelease(service))?.id).toBe('r1');

    const intent: Intent = {
      op,
      service,
      action: 'deploy',
      job_id: 'recover-identity',
      approval_id: null,
      plan_hash: 'f'.repeat(64),
      from_release: null,
      to_release: 'r2',
      step: STEP.tagReleaseImage,
      at: new Date().toISOString(),
    };
    const out = await recoverOperation(h.ctx, intent, { plan: null, startedAt });
    expect(out, JSON.stringify(out)).toMatchObject({ ok: false, code: 'rolled_back' });
    if (out.ok) throw new Error('unreachable');
    expect(out.message).toMatch(
      new RegExp(
        `^recovered after a crash at step tag_release_image: after the change, Docker does not show ghost\\.service=${service} running r2: ${copyName} runs image sha256:[0-9a-f]{12}…, not r2's sha256:[0-9a-f]{12}…; the deploy was undone \\(.*\\); r1 runs and is healthy`,
      ),
    );
    // r1 serves again under the service's name; r2 is neither running nor recorded as current.
    const now = await inspect(web.name);
    expect([now.Image, now.State.Running]).toEqual([v1, true]);
    expect(await httpText(web.port!)).toContain('version 1');
    expect((await h.ctx.releases.currentRelease(service))?.id).toBe('r1');
  });
});
