import { describe, expect, it } from 'vitest';
import { expectedEnv } from '../../../src/executor/env-change.js';
import {
  carriesIdentity,
  decideReleaseIdentity,
  type IdentityInput,
  identityWords,
  type ObservedContainer,
  type ServiceIdentity,
} from '../../../src/executor/verify-release-identity.js';

const NEW = `sha256:${'2'.repeat(64)}`;
const OLD = `sha256:${'1'.repeat(64)}`;
const SECRET = 'canary-secret-value-7f3a';

function c(over: Partial<ObservedContainer> & { id: string }): ObservedContainer {
  return { name: over.id, imageId: NEW, state: 'running', release: 'r2', env: [], ...over };
}

const identity = 'ghost.service=mr-cweb';
const expected = { release: 'r2', imageId: NEW };
const web = c({ id: 'mr-cweb' });

describe('decideReleaseIdentity: the service’s identity runs the new release, as Docker shows it', () => {
  const rows: Array<[string, Partial<IdentityInput>, RegExp | null]> = [
    ['the container Helm made carries the identity and runs r2', { made: [web], carriers: [web] }, null],
    [
      'a kept container of a found release, started again (no release label), is that release',
      { made: [c({ id: 'k', release: null })], carriers: [c({ id: 'k', release: null })] },
      null,
    ],
    [
      'a stray container (compose made a new service beside the owner’s): health-checked, not the service',
      {
        made: [c({ id: 'mrstack_mr-cweb_1' })],
        carriers: [c({ id: 'mr-cweb', imageId: OLD, release: 'r1' })],
      },
      /^after the change, Docker does not show ghost\.service=mr-cweb running r2: mrstack_mr-cweb_1, which Helm started and health-checked, does not carry ghost\.service=mr-cweb \(it is not the service\); mr-cweb runs image sha256:111111111111… \(release r1\), not r2's sha256:222222222222…$/,
    ],
    [
      'nothing carries the identity after the change',
      { made: [c({ id: 'stray' })], carriers: [] },
      /does not carry ghost\.service=mr-cweb \(it is not the service\); no container carries ghost\.service=mr-cweb$/,
    ],
    [
      'an extra container with the identity stays on the old release',
      { made: [web], carriers: [web, c({ id: 'mr-cweb-copy', imageId: OLD, release: null })] },
      /: mr-cweb-copy runs image sha256:111111111111…, not r2's sha256:222222222222…$/,
    ],
    [
      'the old release on the same image (set_env): its release label tells it apart',
      { made: [web], carriers: [web, c({ id: 'old', release: 'r1' })] },
      /: old is labelled release r1, not r2$/,
    ],
    [
      'the same image without a release label, not started by this change',
      { made: [web], carriers: [web, c({ id: 'manual', release: null })] },
      /: manual carries no helm\.release label and was not started by this change$/,
    ],
    [
      'a container of the service that stopped after its gate',
      { made: [c({ id: 'mr-cweb', state: 'exited' })], carriers: [c({ id: 'mr-cweb', state: 'exited' })] },
      /: mr-cweb is exited, not running$/,
    ],
  ];
  it.each(rows)('%s', (_what, over, want) => {
    const d = decideReleaseIdentity({ identity, expected, made: [], carriers: [], ...over });
    if (want === null) expect(d).toEqual({ ok: true });
    else {
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.problem).toMatch(want);
    }
  });

  it('undoing: an unlabelled container on the restored release’s image is that release; another release is not', () => {
    const restoring = { release: 'r1', imageId: OLD, restoring: true };
    const back = c({ id: 'mr-cweb', imageId: OLD, release: null });
    const input = { identity, expected: restoring, made: [back] };
    const unlabelled = c({ id: 'manual', imageId: OLD, release: null });
    expect(decideReleaseIdentity({ ...input, carriers: [back, unlabelled] })).toEqual({ ok: true });
    const failed = decideReleaseIdentity({ ...input, carriers: [back, c({ id: 'copy' })] });
    expect(failed).toEqual({
      ok: false,
      problem: `after the change, Docker does not show ${identity} running r1: copy runs image sha256:222222222222… (release r2), not r1's sha256:111111111111…`,
    });
  });

  it('set_env: each variable as asked, named in the answer, its value never', () => {
    const want = { API_URL: SECRET, DEBUG: null, MODE: 'fast' };
    const ok = c({ id: 'a', env: ['PATH=/bin', `API_URL=${SECRET}`, 'MODE=slow', 'MODE=fast'] });
    expect(
      decideReleaseIdentity({ identity, expected: { ...expected, env: want }, made: [ok], carriers: [ok] }),
    ).toEqual({
      ok: true,
    });
    const wrong = c({ id: 'a', env: ['API_URL=other', 'DEBUG=1'] });
    const d = decideReleaseIdentity({
      identity,
      expected: { ...expected, env: want },
      made: [wrong],
      carriers: [wrong],
    });
    expect(d).toEqual({
      ok: false,
      problem:
        'after the change, Docker does not show ghost.service=mr-cweb running r2: a has API_URL other than asked, still sets DEBUG, does not set MODE',
    });
    expect(JSON.stringify(d)).not.toContain(SECRET);
  });

  it('many problems: the first six, and how many more', () => {
    const carriers = Array.from({ length: 9 }, (_, i) => c({ id: `x${i}`, release: 'r1' }));
    const d = decideReleaseIdentity({ identity, expected, made: [], carriers });
    expect(d.ok).toBe(false);
    if (!d.ok) {
      expect(d.problem).toContain('x5 is labelled release r1');
      expect(d.problem).not.toContain('x6 ');
      expect(d.problem).toMatch(/; and 3 more$/);
    }
  });
});

describe('carriesIdentity: which containers are the service', () => {
  const byLabel: ServiceIdentity = { service: 'mr-cweb', via: 'ghost.service', composeProject: 'mrstack' };
  const byCompose: ServiceIdentity = { service: 'web', via: 'compose', composeProject: 'shop' };
  const byName: ServiceIdentity = { service: 'api', via: 'container_name', composeProject: null };
  const rows: Array<[string, ServiceIdentity, { name: string; labels: Record<string, string> }, boolean]> = [
    ['its label', byLabel, { name: 'mr-cweb', labels: { 'ghost.service': 'mr-cweb' } }, true],
    [
      'its label, anywhere on the engine',
      byLabel,
      { name: 'copy', labels: { 'ghost.service': 'mr-cweb' } },
      true,
    ],
    [
      'a stray compose service named after the label, without it',
      byLabel,
      { name: 'mrstack_mr-cweb_1', labels: { 'com.docker.compose.service': 'mr-cweb' } },
      false,
    ],
    [
      'a kept earlier release',
      byLabel,
      { name: 'mr-cweb-helm-r1', labels: { 'ghost.service': 'mr-cweb' } },
      false,
    ],
    [
      'a compose one-off (`compose run`)',
      byLabel,
      { name: 'run1', labels: { 'ghost.service': 'mr-cweb', 'com.docker.compose.oneoff': 'True' } },
      false,
    ],
    [
      'the compose key in its project',
      byCompose,
      {
        name: 'shop_web_1',
        labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'shop' },
      },
      true,
    ],
    [
      'the compose key in another project',
      byCompose,
      { name: 'x_web_1', labels: { 'com.docker.compose.service': 'web', 'com.docker.compose.project': 'x' } },
      false,
    ],
    ['its container name', byName, { name: 'api', labels: {} }, true],
    ['another name', byName, { name: 'api2', labels: {} }, false],
  ];
  it.each(rows)('%s', (_what, id, container, want) => {
    expect(carriesIdentity(container, id)).toBe(want);
  });

  it('is named in words', () => {
    expect([identityWords(byLabel), identityWords(byCompose), identityWords(byName)]).toEqual([
      'ghost.service=mr-cweb',
      'compose service web of project shop',
      'the name api',
    ]);
  });
});

describe('expectedEnv: what set_env must read back', () => {
  it('a set variable its value; an unset one the image’s default, or not set', () => {
    expect(
      expectedEnv(
        { A: { value: '1' }, S: { secret: 's', value: SECRET } },
        ['PORT', 'DEBUG'],
        ['PATH=/bin', 'PORT=8080'],
      ),
    ).toEqual({ A: '1', S: SECRET, PORT: '8080', DEBUG: null });
  });
});
