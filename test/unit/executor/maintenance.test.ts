// Pure parts of scale, remove, set_env and prune: which containers a scale keeps, copies of replica
// 1, the environment a set_env gives, what prune may delete, archive sizes, and planInputs with fakes.
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ContainerSummary, DockerReads, ImageSummary } from '../../../src/docker/docker-ports.js';
import { applyEnvChange, effectiveEnv, sameEnv } from '../../../src/executor/env-change.js';
import {
  type PruneInput,
  pruneContainerCandidates,
  pruneImageCandidates,
  serviceOfContainer,
  servicesOf,
} from '../../../src/observe/prune-candidates.js';
import { makeReleaseStore, type ReleaseRecord, releaseTag } from '../../../src/releases/release-store.js';
import { copyOptions, replicaNames } from '../../../src/executor/scale-up.js';
import { scaleChanges } from '../../../src/executor/scale.js';
import { secretHmac, secretValueProblem } from '../../../src/secrets/secret-hmac.js';
import { describeNames } from '../../../src/executor/set-env.js';
import { archiveEstimate, archiveStamp } from '../../../src/executor/volume-archive.js';
import { planInputs } from '../../../src/observe/plan-inputs.js';
import { PlanError } from '../../../src/plan/plan-error.js';
import type { SecretStore } from '../../../src/secrets/secret-store.js';
import { SecretNotFoundError } from '../../../src/secrets/secret-store.js';
import { containerInspect, imageInspect } from './fixtures.js';

function replica(name: string, created: string, running = true, id = name.padEnd(64, '0')) {
  return { ...containerInspect({ name, id, running }), Created: created };
}

describe('scaleChanges', () => {
  const a = replica('w', '2026-01-01T00:00:01Z');
  const b = replica('w-2', '2026-01-01T00:00:02Z');
  const c = replica('w-3', '2026-01-01T00:00:03Z');
  const names = (xs: Array<{ Name: string }>) => xs.map((x) => x.Name.slice(1));

  it('scale down removes the newest first and keeps the oldest as replica 1', () => {
    const s = scaleChanges([c, a, b], 1);
    expect(names(s.keep)).toEqual(['w']);
    expect(names(s.remove)).toEqual(['w-3', 'w-2']);
    expect(s).toMatchObject({ create: 0, start: [], template: null });
  });

  it('0 keeps the oldest replica as the template and removes the rest', () => {
    const s = scaleChanges([a, b, c], 0);
    expect(names(s.remove)).toEqual(['w-3', 'w-2']);
    expect(s.template?.Name).toBe('/w');
  });

  it('up from the template starts it and creates copies for the rest', () => {
    const t = replica('w', '2026-01-01T00:00:01Z', false);
    const s = scaleChanges([t], 3);
    expect(names(s.start)).toEqual(['w']);
    expect(s.create).toBe(2);
    expect(s.remove).toEqual([]);
  });

  it('running replicas stay before stopped ones, whatever their age', () => {
    const old = replica('w', '2026-01-01T00:00:01Z', false);
    const s = scaleChanges([old, b, c], 2);
    expect(names(s.keep)).toEqual(['w-2', 'w-3']);
    expect(names(s.remove)).toEqual(['w']);
  });

  it('the same count changes nothing', () => {
    expect(scaleChanges([a, b], 2)).toMatchObject({ start: [], remove: [], create: 0 });
  });

  it('names new replicas <service>-<n> from 2, skipping taken names', () => {
    expect(replicaNames('w', 3, new Set(['w', 'w-2', 'w-4']))).toEqual(['w-3', 'w-5', 'w-6']);
  });
});

describe('copyOptions', () => {
  it("copies replica 1's own settings, keeps ghost labels explicit, and does not share its anonymous volumes", () => {
    const img = imageInspect({ Env: ['PATH=/bin', 'X=image'], Labels: { 'ghost.environment': 'dev' } });
    const r1 = containerInspect({
      name: 'w',
      config: {
        Env: ['PATH=/bin', 'X=image', 'REPLICA=1'],
        Labels: { 'ghost.service': 'w', 'ghost.environment': 'dev', 'helm.release': 'r2', other: 'o' },
      },
      hostConfig: { NetworkMode: 'host', RestartPolicy: { Name: 'always' }, Init: true },
      mounts: [
        {
          Type: 'volume',
          Name: 'anon123',
          Source: '',
          Destination: '/cache',
          Driver: 'local',
          Mode: '',
          RW: true,
          Propagation: '',
        },
      ],
    });
    const o = copyOptions(r1, img, 'helm-test/worker:1', 'w-2', 'op-1');
    expect(o.name).toBe('w-2');
    expect(o.Env).toEqual(['REPLICA=1']);
    expect(o.Labels).toMatchObject({
      'ghost.service': 'w',
      'ghost.environment': 'dev',
      'helm.release': 'r2',
      'helm.op': 'op-1',
      other: 'o',
    });
    expect(o.HostConfig).toMatchObject({ RestartPolicy: { Name: 'always' }, Init: true, Mounts: [] });
  });
});

describe('applyEnvChange', () => {
  const imageEnv = ['PATH=/bin', 'MODE=image'];
  it('sets, unsets, and records secret references by name only', () => {
    const c = applyEnvChange({
      ownEnv: ['A=1', 'B=2', 'MODE=own'],
      labels: { 'helm.env-secrets': '{"B":"old-secret"}', keep: 'x' },
      imageEnv,
      set: { C: { value: 'three' }, B: { secret: 'db-pass', value: 's3cret-value' } },
      unset: ['A', 'MODE', 'NOPE'],
    });
    expect(c.env).toEqual(['B=s3cret-value', 'C=three']);
    expect(c.labels).toEqual({ 'helm.env-secrets': '{"B":"db-pass"}', keep: 'x' });
    expect(c.imageDefaults).toEqual(['MODE']);
    expect(c.notSet).toEqual(['NOPE']);
  });

  it('drops the secrets label when no reference is left', () => {
    const c = applyEnvChange({
      ownEnv: ['B=s3cret-value'],
      labels: { 'helm.env-secrets': '{"B":"db-pass"}' },
      imageEnv,
      set: { B: { value: 'plain' } },
      unset: [],
    });
    expect(c.labels).toEqual({});
  });

  it('compares effective environments the way Docker merges them', () => {
    expect(sameEnv(effectiveEnv(imageEnv, ['MODE=image']), effectiveEnv(imageEnv, []))).toBe(true);
    expect(sameEnv(effectiveEnv(imageEnv, ['MODE=x']), effectiveEnv(imageEnv, []))).toBe(false);
  });

  it('describes a change by names, never values', () => {
    expect(
      describeNames({ set: { A: { value: 'v' }, P: { secret: 'pw', hmac_sha256: 'ab' } }, unset: ['Z'] }),
    ).toBe('set A, P (from secret pw) and unset Z');
  });
});

describe('prune candidates', () => {
  const hex = (c: string) => c.repeat(64);
  const summary = (over: Partial<ContainerSummary>): ContainerSummary => ({
    id: hex('0'),
    name: 'x',
    image: 'i',
    imageId: `sha256:${hex('f')}`,
    labels: {},
    state: 'exited',
    status: '',
    createdAt: 0,
    ...over,
  });
  const rec = (service: string, id: string, image: string): ReleaseRecord =>
    ({ id, service, image_id: image }) as ReleaseRecord;
  const img = (c: string) => `sha256:${hex(c)}`;
  const releases = new Map([['web', [rec('web', 'r4', img('4')), rec('web', 'r3', img('3'))]]]);
  const helmMade = (rel: string) => ({ 'ghost.service': 'web', 'helm.op': 'op', 'helm.release': rel });
  const input = (containers: ContainerSummary[], images: ImageSummary[] = []): PruneInput => ({
    containers,
    images,
    releases,
    isManaged: (l) => l['ghost.service'] !== undefined,
  });

  it('takes only kept containers Helm created for releases older than the kept ones', () => {
    const cs = [
      summary({ id: hex('1'), name: 'web-helm-r1', labels: helmMade('r1') }),
      summary({ id: hex('2'), name: 'web-helm-r2', labels: { 'ghost.service': 'web' } }), // adopted: the owner's
      summary({ id: hex('3'), name: 'web-helm-r3', labels: helmMade('r3') }), // a kept release
      summary({ id: hex('5'), name: 'web', labels: helmMade('r4') }), // active, or a scale template
      summary({ id: hex('6'), name: 'api-helm-r1', labels: { ...helmMade('r1'), 'ghost.service': 'api' } }), // no records
      summary({ id: hex('7'), name: 'web-helm-r2', labels: { ...helmMade('r2'), 'ghost.scope': 'x' } }),
    ];
    expect(pruneContainerCandidates(input(cs)).map((c) => c.name)).toEqual(['web-helm-r1', 'web-helm-r2']);
    // Out of scope: never.
    const scoped = { ...input(cs), isManaged: () => false };
    expect(pruneContainerCandidates(scoped)).toEqual([]);
  });

  it('takes only images tagged solely by superseded Helm release tags, never one a kept release runs', () => {
    const t = (rel: string) => releaseTag('web', rel).ref;
    const images: ImageSummary[] = [
      { id: img('1'), repoTags: [t('r1')], created: 0 },
      { id: img('2'), repoTags: [t('r1'), t('r2')], created: 0 },
      { id: img('3'), repoTags: [t('r2')], created: 0 }, // a kept release's image, by id
      { id: img('5'), repoTags: [t('r2'), 'helm-test/web:1'], created: 0 }, // another tag: not Helm's alone
      { id: img('6'), repoTags: [t('r3')], created: 0 }, // a kept release's tag
      { id: img('7'), repoTags: [], created: 0 }, // untagged: not Helm's
      { id: img('8'), repoTags: [releaseTag('api', 'r1').ref], created: 0 }, // a service without records
    ];
    expect(pruneImageCandidates(input([], images)).map((c) => c.id)).toEqual([img('1'), img('2')]);
  });

  it('reads the service of a kept container from its labels, else its name', () => {
    expect(serviceOfContainer({ name: 'web-helm-r2', labels: {} })).toBe('web');
    expect(serviceOfContainer({ name: 'x-helm-r2', labels: { 'com.docker.compose.service': 'api' } })).toBe(
      'api',
    );
    expect(servicesOf([summary({ name: 'a', labels: { 'ghost.service': 'a' } })], () => true)).toEqual(['a']);
  });
});

describe('archives and secrets', () => {
  it('estimates an archive with room for tar headers, and stamps names without colons', () => {
    expect(archiveEstimate(0)).toBe(1024 * 1024);
    expect(archiveEstimate(1000)).toBe(1100 + 1024 * 1024);
    expect(archiveStamp(new Date('2026-11-29T18:24:00.123Z'))).toBe('20261129T182400123Z');
  });

  it('refuses secrets that could not be redacted or carried', () => {
    expect(secretValueProblem('s', 'short')).toMatch(/shorter than 6/);
    expect(secretValueProblem('s', 'long-enough\u0000')).toMatch(/NUL/);
    expect(secretValueProblem('s', 'long-enough')).toBeNull();
  });
});

describe('planInputs', () => {
  const key = Buffer.alloc(32, 7);
  const store = (values: Record<string, string>): SecretStore => ({
    async read(name) {
      const v = values[name];
      if (v === undefined) throw new SecretNotFoundError(name);
      return v;
    },
    async scan() {
      return { names: Object.keys(values), problems: [] };
    },
  });
  const docker = {} as DockerReads;
  const setEnv = (set: Record<string, unknown>) =>
    ({
      action: 'set_env',
      target: 'web',
      environment: 'staging',
      reason: 'r',
      params: { set },
    }) as never;

  it('gives the HMAC of each referenced secret, and nothing for inline values', async () => {
    const out = await planInputs({
      request: setEnv({ A: 'inline', B: { secret: 'pw' }, C: { secret: 'pw' } }),
      service: 'web',
      docker,
      secrets: store({ pw: 'canary-value-123' }),
      secretKey: key,
    });
    expect(out).toEqual({ secretHmacs: { pw: secretHmac(key, 'canary-value-123') } });
    expect(JSON.stringify(out)).not.toContain('canary-value-123');
  });

  it('refuses a missing secret (invalid_request) and a missing key (internal)', async () => {
    const req = setEnv({ B: { secret: 'gone' } });
    await expect(
      planInputs({ request: req, service: 'web', docker, secrets: store({}), secretKey: key }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
    const noKey = planInputs({ request: req, service: 'web', docker, secrets: store({ gone: 'abcdefgh' }) });
    await expect(noKey).rejects.toBeInstanceOf(PlanError);
    await expect(noKey).rejects.toMatchObject({ code: 'internal' });
  });

  it('lists nothing to prune without release records', async () => {
    const out = await planInputs({
      request: {
        action: 'prune',
        target: 'local',
        environment: 'dev',
        reason: 'r',
        params: { what: 'images' },
      },
      service: 'local',
      docker,
    });
    expect(out).toEqual({ pruneItems: [] });
  });

  it('gives deploys their release ids', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'helm-unit-pi-'));
    const out = await planInputs({
      request: {
        action: 'deploy',
        target: 'web',
        environment: 'dev',
        reason: 'r',
        params: { image: 'web:2' },
      },
      service: 'web',
      docker,
      releases: makeReleaseStore(dir),
    });
    expect(out).toEqual({ releases: { current: null, next: 'r1', previous: null, byId: {} } });
    rmdirSync(dir);
  });
});
