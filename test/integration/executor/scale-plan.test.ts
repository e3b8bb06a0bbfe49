// A scale removes exactly the containers its plan names (desired.remove_containers): when what Docker
// shows now would make it remove others, it changes nothing (stale_plan).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecMeta } from '../../../src/executor/exec-context.js';
import { scaleService } from '../../../src/executor/scale.js';
import { removeTestContainers } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  exists,
  type Harness,
  makeHarness,
  removeHarnessDir,
  resolveService,
  startServiceContainer,
} from './exec-harness.js';
import { runningOf } from './volume-service.js';

const meta: ExecMeta = { requestId: null, approvalId: null, environment: 'dev', opId: 'op-scale-plan' };
let h: Harness;

beforeAll(() => {
  h = makeHarness({ stabilityWindowMs: 500 });
});
afterAll(async () => {
  await removeTestContainers();
  if (h) removeHarnessDir(h.memoryDir);
});

describe('scale and the plan', () => {
  it('removes the containers the plan names, and refuses (changing nothing) when others would go', async () => {
    const service = uniqueName('planned');
    const ids: string[] = [];
    for (const name of [service, `${service}-2`]) {
      const c = await startServiceContainer({
        service,
        name,
        image: 'helm-test/worker:1',
        port: null,
        labels: { 'ghost.environment': 'dev' },
      });
      ids.push(c.id);
    }
    const [oldest, newest] = ids as [string, string];

    h.reset();
    const refused = await scaleService(h.ctx, await resolveService(service), 1, meta, [oldest]);
    expect(refused).toMatchObject({ ok: false, code: 'stale_plan' });
    expect((refused as { message: string }).message).toContain(
      `the plan removes ${oldest.slice(0, 12)}, but now ${newest.slice(0, 12)} would go`,
    );
    expect(h.steps()).toEqual([]);
    expect(await runningOf(service)).toEqual([service, `${service}-2`]);

    const done = await scaleService(h.ctx, await resolveService(service), 1, meta, [newest]);
    expect(done).toMatchObject({ ok: true });
    expect(await exists(newest)).toBe(false);
    expect(await runningOf(service)).toEqual([service]);
  });
});
