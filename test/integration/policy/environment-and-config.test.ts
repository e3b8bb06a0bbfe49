// environmentOf, configHmac and buildPlan on what the real Docker engine reports: Docker does merge an
// image's labels into the container's Config.Labels (the premise of the image-label rule), durations
// come back as integer nanoseconds, and a restart leaves config_hmac as it was.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionRequestSchema, PlanSchema } from '../../../src/contracts/index.js';
import type { ContainerInspect } from '../../../src/docker/docker-objects.js';
import { deriveKey } from '../../../src/keys/helm-key.js';
import { buildPlan } from '../../../src/plan/build-plan.js';
import { configHmac } from '../../../src/plan/config-hmac.js';
import {
  effectiveGhostLabels,
  environmentOf,
  ghostLabelsForRecreate,
} from '../../../src/policy/environment-of.js';
import { uniqueName } from '../../helpers/containers.js';
import { removeTestContainers, testDocker, testLabels, WEB_IMAGE_V1 } from '../../helpers/docker.js';

const KEY = deriveKey(Buffer.alloc(32, 3), 'config-hmac');
const LABELLED_REPO = 'helm-test/web-env-labelled';
let labelledImage = '';

async function create(
  name: string,
  labels: Record<string, string>,
  env: string[] = [],
  image = labelledImage,
) {
  const c = await testDocker().createContainer({
    name,
    Image: image,
    Cmd: ['/bin/sh', '-c', 'sleep 300'],
    Env: env,
    Labels: testLabels(labels),
    HostConfig: { NetworkMode: 'none', Init: true },
  });
  return c;
}

async function inspect(id: string): Promise<ContainerInspect> {
  return (await testDocker().getContainer(id).inspect()) as ContainerInspect;
}

async function imageLabels(image: string): Promise<Record<string, string>> {
  return (await testDocker().getImage(image).inspect()).Config.Labels ?? {};
}

beforeAll(async () => {
  // An image whose author tried to make every container from it "dev": built by committing a container
  // of the test image with a LABEL change (no build context, no network).
  const base = await testDocker().createContainer({
    name: uniqueName('helm-test-env-base'),
    Image: WEB_IMAGE_V1,
    Labels: testLabels(),
  });
  const tag = uniqueName('t');
  await base.commit({ repo: LABELLED_REPO, tag, changes: 'LABEL ghost.environment=dev ghost.role=api' });
  await base.remove({ force: true });
  labelledImage = `${LABELLED_REPO}:${tag}`;
});

afterAll(async () => {
  await removeTestContainers();
  if (labelledImage)
    await testDocker()
      .getImage(labelledImage)
      .remove({ force: true })
      .catch(() => undefined);
});

describe('environmentOf on real containers', () => {
  it('the image-label trick: a container that only inherits ghost.environment=dev stays production', async () => {
    const name = uniqueName('helm-test-env-inherit');
    const c = await create(name, { 'ghost.service': 'web' });
    const info = await inspect(c.id);
    // The premise: Docker merged the image's label into the container's labels.
    expect(info.Config.Labels['ghost.environment']).toBe('dev');
    const fromImage = await imageLabels(info.Image);
    expect(fromImage['ghost.environment']).toBe('dev');

    const input = { containerName: info.Name, containerLabels: info.Config.Labels, imageLabels: fromImage };
    expect(environmentOf({ ...input, classification: [] })).toEqual({
      environment: 'production',
      source: 'default',
    });
    expect(
      environmentOf({
        ...input,
        classification: [{ pattern: 'helm-test-env-inherit-*', environment: 'staging' }],
      }),
    ).toEqual({ environment: 'staging', source: 'classification' });
    // Recreating it must not turn the inherited value into an own label.
    expect(ghostLabelsForRecreate({ ...input, classification: [] })).toEqual({ 'ghost.service': 'web' });
  });

  it("a container's own label counts, and Docker lets it override the image's", async () => {
    const c = await create(uniqueName('helm-test-env-own'), { 'ghost.environment': 'staging' });
    const info = await inspect(c.id);
    const fromImage = await imageLabels(info.Image);
    expect(info.Config.Labels['ghost.environment']).toBe('staging');
    expect(
      environmentOf({
        containerName: info.Name,
        containerLabels: info.Config.Labels,
        imageLabels: fromImage,
        classification: [],
      }),
    ).toEqual({ environment: 'staging', source: 'label' });
    expect(effectiveGhostLabels(info.Config.Labels, fromImage)).toEqual({ 'ghost.environment': 'staging' });
  });
});

describe('configHmac and buildPlan on real containers', () => {
  it('survives start, restart and stop; changes with the configuration', async () => {
    const c = await create(
      uniqueName('helm-test-env-hmac'),
      { 'ghost.service': 'hmac' },
      ['MODE=a'],
      WEB_IMAGE_V1,
    );
    const created = configHmac(await inspect(c.id), KEY);
    await c.start();
    const running = await inspect(c.id);
    expect(running.State.Running).toBe(true);
    // The image's HEALTHCHECK comes back as integer nanoseconds.
    expect(running.Config.Healthcheck?.Interval).toBe(1_000_000_000);
    expect(configHmac(running, KEY)).toBe(created);
    await c.restart({ t: 1 });
    const restarted = await inspect(c.id);
    expect(restarted.State.StartedAt).not.toBe(running.State.StartedAt);
    expect(configHmac(restarted, KEY)).toBe(created);
    await c.stop({ t: 1 });
    expect(configHmac(await inspect(c.id), KEY)).toBe(created);

    const other = await create(
      uniqueName('helm-test-env-hmac'),
      { 'ghost.service': 'hmac' },
      ['MODE=b'],
      WEB_IMAGE_V1,
    );
    expect(configHmac(await inspect(other.id), KEY)).not.toBe(created);
  });

  it('plans a restart of real replicas that fits the contract', async () => {
    const a = await create(uniqueName('helm-test-env-plan'), { 'ghost.service': 'plan' }, [], WEB_IMAGE_V1);
    const b = await create(uniqueName('helm-test-env-plan'), { 'ghost.service': 'plan' }, [], WEB_IMAGE_V1);
    const containers = [await inspect(a.id), await inspect(b.id)];
    const request = ActionRequestSchema.parse({
      action: 'restart',
      target: 'plan',
      environment: 'production',
      reason: 'test',
    });
    const plan = buildPlan({
      request,
      host: 'local',
      service: 'plan',
      environment: 'production',
      containers,
      configKey: KEY,
    });
    expect(PlanSchema.parse(plan)).toEqual(plan);
    expect(plan.preconditions.containers.map((c) => c.id)).toEqual([a.id, b.id].sort());
    expect(plan.desired).toEqual({ timeout_s: 10 });
  });
});
