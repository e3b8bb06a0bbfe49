// A deploy stops the replaced container with its own stop wait, on the real engine: the web image run
// without an init has httpd as PID 1, which ignores SIGTERM, so every stop lasts its whole timeout.
// With `ghost.stop-timeout=1` (or the container's own StopTimeout of 1 s) the stop takes about 1 s,
// not Docker's 10 s; the wait shows as a step in the log, and the result reports how long it took.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployService } from '../../../src/executor/deploy.js';
import { STEP } from '../../../src/executor/steps.js';
import { removeTestContainers, testDocker, WEB_IMAGE_V2 } from '../../helpers/docker.js';
import { uniqueName } from '../../helpers/containers.js';
import {
  type Harness,
  httpText,
  makeHarness,
  removeHarnessDir,
  removeReleaseTags,
  resolveService,
  startServiceContainer,
} from './exec-harness.js';

const meta = {
  requestId: 't:stop-timeout',
  approvalId: null,
  environment: 'staging',
  opId: 'op-stop-timeout',
};
/** Generous: the 1 s wait plus Docker's own work, far below the 10 s a SIGTERM-deaf process costs by default. */
const STOP_BOUND_MS = 8_000;

let h: Harness;
let web2Id: string;
const services: string[] = [];

beforeAll(async () => {
  h = makeHarness({ stabilityWindowMs: 1_000, healthTimeoutMs: 15_000 });
  web2Id = (await testDocker().getImage(WEB_IMAGE_V2).inspect()).Id;
});
afterAll(async () => {
  await removeTestContainers();
  await removeReleaseTags(services);
  if (h) removeHarnessDir(h.memoryDir);
});

/** Deploys web:2 over a SIGTERM-deaf web:1 container; returns the result and the stop step's real length. */
async function deployOverDeafContainer(opts: { labels?: Record<string, string>; stopTimeout?: number }) {
  const service = uniqueName('stopwait');
  services.push(service);
  const old = await startServiceContainer({
    service,
    init: false,
    labels: { 'ghost.environment': 'staging', ...opts.labels },
    ...(opts.stopTimeout !== undefined ? { stopTimeout: opts.stopTimeout } : {}),
  });
  h.reset();
  h.logLines.splice(0);
  const out = await deployService(
    h.ctx,
    await resolveService(service),
    {
      image: WEB_IMAGE_V2,
      image_id: web2Id,
      manifest_digest: null,
      artifact_id: null,
      strategy: 'recreate',
      replaces_release: 'r1',
      new_release: 'r2',
    },
    meta,
  );
  // The stop's real length, from the harness's own clock: its announcement to the next one.
  const i = h.log.findIndex((e) => e.kind === 'announce' && e.step === STEP.stopOld);
  const next = h.log.slice(i + 1).find((e) => e.kind === 'announce');
  expect(i, 'stop_old announced').toBeGreaterThanOrEqual(0);
  const stopMs = (next?.at ?? Date.now()) - h.log[i]!.at;
  expect(await httpText(old.port!)).toContain('version 2');
  const lines = h.logLines.flatMap((l) => l.split('\n').filter(Boolean)).map((l) => JSON.parse(l));
  const stops = out.data?.['stops'] as Array<Record<string, unknown>> | undefined;
  return { out, stopMs, lines, stops };
}

describe('the stop of a replaced container honours its own stop wait', () => {
  it('ghost.stop-timeout=1: the stop takes about 1 s, shows as a step, and the result reports it', async () => {
    const { out, stopMs, lines, stops } = await deployOverDeafContainer({
      labels: { 'ghost.stop-timeout': '1' },
    });
    expect(out.ok, JSON.stringify(out)).toBe(true);
    expect(stopMs).toBeLessThan(STOP_BOUND_MS);
    expect(stops).toEqual([
      expect.objectContaining({ timeout_s: 1, timeout_from: 'label', ms: expect.any(Number) }),
    ]);
    expect(stops?.[0]?.['ms']).toBeLessThan(STOP_BOUND_MS);
    // The wait is announced in the log before it starts, and its end carries how long it took.
    expect(
      lines.some((l) => l.step === STEP.stopOld && l.level === 30 && /waiting up to 1 s/.test(l.msg)),
    ).toBe(true);
    expect(lines.find((l) => l.step === STEP.stopOld && typeof l.duration_ms === 'number')).toMatchObject({
      level: 30,
      timeout_s: 1,
    });
  });

  it("the container's own StopTimeout of 1 s: the same", async () => {
    const { out, stopMs, stops } = await deployOverDeafContainer({ stopTimeout: 1 });
    expect(out.ok, JSON.stringify(out)).toBe(true);
    expect(stopMs).toBeLessThan(STOP_BOUND_MS);
    expect(stops).toEqual([expect.objectContaining({ timeout_s: 1, timeout_from: 'container' })]);
  });

  it('a ghost.stop-timeout that is not whole seconds is ignored (never a shorter wait) and reported', async () => {
    const { out, stopMs, lines, stops } = await deployOverDeafContainer({
      labels: { 'ghost.stop-timeout': '0.5s' },
      stopTimeout: 1,
    });
    expect(out.ok, JSON.stringify(out)).toBe(true);
    expect(stopMs).toBeLessThan(STOP_BOUND_MS);
    expect(stops).toEqual([
      expect.objectContaining({
        timeout_s: 1,
        timeout_from: 'container',
        problem: expect.stringContaining('ghost.stop-timeout label "0.5s" is not a whole number of seconds'),
      }),
    ]);
    expect(lines.some((l) => l.level === 40 && /ghost\.stop-timeout label/.test(l.msg))).toBe(true);
  });
});
