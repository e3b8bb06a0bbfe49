import { describe, expect, it } from 'vitest';
import { type ActionRequest, ActionRequestSchema } from '../../../src/contracts/index.js';
import { buildPlan, planSteps, stepContextOf } from '../../../src/plan/build-plan.js';
import { CONFIG_KEY, hex64, IMAGE_B, inspectFixture } from './inspect-fixture.js';

const C1 = inspectFixture(hex64('1'), 'web-1');
const C2 = inspectFixture(hex64('2'), 'web-2');
const names = { [hex64('1')]: 'web-1', [hex64('2')]: 'web-2' };
const HEALTH =
  'check health: the ghost.healthcheck label, else the Docker HEALTHCHECK, else running and not restarting';

function plan(data: Record<string, unknown>, containers = [C1, C2]) {
  const request: ActionRequest = ActionRequestSchema.parse({
    target: 'web',
    environment: 'production',
    reason: 'testing',
    ...data,
  });
  return buildPlan({
    request,
    host: 'local',
    service: 'web',
    environment: 'production',
    containers,
    configKey: CONFIG_KEY,
    secretHmacs: { 'db-password': hex64('d') },
    releases: {
      current: 'web:r2',
      next: 'web:r3',
      previous: 'web:r1',
      byId: { 'web:r1': { image_id: IMAGE_B } },
    },
    pruneItems: [IMAGE_B],
  });
}

describe('planSteps', () => {
  it('restart: each container stopped with its timeout, started again, then the health check', () => {
    expect(planSteps(plan({ action: 'restart', params: { timeout_s: 30 } }), names)).toEqual([
      'stop container web-1 (111111111111, image sha256:aaaaaaaaaaaa…) with a 30 s timeout',
      'start it again',
      'stop container web-2 (222222222222, image sha256:aaaaaaaaaaaa…) with a 30 s timeout',
      'start it again',
      HEALTH,
    ]);
  });

  it('names containers by short id when the caller gives no names', () => {
    expect(planSteps(plan({ action: 'stop' }), {})[0]).toBe(
      'stop container 111111111111 (image sha256:aaaaaaaaaaaa…) with a 10 s timeout',
    );
    expect(planSteps(plan({ action: 'stop' }, []))).toEqual([
      'web has no containers: nothing to act on',
      'web stays stopped until it is started again',
    ]);
  });

  it('deploy: where the image comes from, each replacement, health, rollback target, release', () => {
    expect(
      planSteps(
        plan({
          action: 'deploy',
          params: { image: 'shop/web:1.2.4', manifest_digest: IMAGE_B, artifact_id: 'b-42' },
        }),
        names,
      ),
    ).toEqual([
      'pull shop/web:1.2.4 by digest sha256:bbbbbbbbbbbb… (Forge artifact b-42)',
      'stop container web-1 (111111111111, image sha256:aaaaaaaaaaaa…), then start its replacement from the new image',
      'stop container web-2 (222222222222, image sha256:aaaaaaaaaaaa…), then start its replacement from the new image',
      HEALTH,
      'if it is unhealthy, roll back to release web:r2',
      'record it as release web:r3, replacing web:r2',
    ]);
  });

  it('deploy: each stop says how long it may wait for the container to exit, when the caller knows', () => {
    const steps = planSteps(
      plan({ action: 'deploy', params: { image: 'shop/web:1.2.4', image_id: IMAGE_B } }),
      names,
      {},
      {
        [hex64('1')]: '1 s (ghost.stop-timeout)',
      },
    );
    expect(steps.slice(1, 3)).toEqual([
      'stop container web-1 (111111111111, image sha256:aaaaaaaaaaaa…), waiting up to 1 s (ghost.stop-timeout) for it to exit, then start its replacement from the new image',
      'stop container web-2 (222222222222, image sha256:aaaaaaaaaaaa…), then start its replacement from the new image',
    ]);
  });

  it('scale names the direction and count', () => {
    expect(planSteps(plan({ action: 'scale', params: { replicas: 3 } }))).toEqual([
      'scale web from 2 replicas to 3',
      'start 1 new replica like the current ones',
      HEALTH,
    ]);
  });

  // Same age: web-1 is replica 1 (by name) and stays; web-2 goes.
  it.each([
    [
      1,
      [
        'scale web from 2 replicas to 1: 1 replica goes, 1 stays',
        'stop and remove container web-2 (222222222222, image sha256:aaaaaaaaaaaa…)',
        'keep container web-1 (111111111111, image sha256:aaaaaaaaaaaa…)',
      ],
    ],
    [
      0,
      [
        'scale web from 2 replicas to 0: 1 replica goes, 1 stays',
        'stop and remove container web-2 (222222222222, image sha256:aaaaaaaaaaaa…)',
        'keep container web-1 (111111111111, image sha256:aaaaaaaaaaaa…) stopped, as the template for a later scale up',
      ],
    ],
  ] as const)(
    'a scale-down to %d names exactly the containers that go and the ones that stay',
    (replicas, steps) => {
      expect(planSteps(plan({ action: 'scale', params: { replicas } }), names)).toEqual(steps);
    },
  );

  it('a scale-down names no container it keeps among the ones that go', () => {
    const three = [C1, C2, inspectFixture(hex64('3'), 'web-3')];
    const steps = planSteps(plan({ action: 'scale', params: { replicas: 1 } }, three));
    expect(steps.filter((s) => s.startsWith('stop and remove'))).toEqual([
      'stop and remove container 222222222222 (image sha256:aaaaaaaaaaaa…)',
      'stop and remove container 333333333333 (image sha256:aaaaaaaaaaaa…)',
    ]);
    expect(steps.filter((s) => s.startsWith('keep'))).toEqual([
      'keep container 111111111111 (image sha256:aaaaaaaaaaaa…)',
    ]);
  });

  it('set_env never shows a value', () => {
    const steps = planSteps(
      plan({
        action: 'set_env',
        params: {
          set: { API_URL: 'https://inline.example/secretish', DB: { secret: 'db-password' } },
          unset: ['OLD'],
        },
      }),
    );
    expect(steps.slice(0, 3)).toEqual([
      'set API_URL to an inline value',
      'set DB from secret db-password (HMAC dddddddddddd…)',
      'unset OLD',
    ]);
    expect(steps.join('\n')).not.toContain('inline.example');
  });

  it('remove, rollback and prune', () => {
    expect(planSteps(plan({ action: 'remove' }, [C1]), names)).toEqual([
      'remove container web-1 (111111111111, image sha256:aaaaaaaaaaaa…), keeping its volumes',
    ]);
    expect(planSteps(plan({ action: 'remove', params: { volumes: true } }, [C1]), names)).toEqual([
      "archive the data of every volume container web-1 (111111111111, image sha256:aaaaaaaaaaaa…) mounts under Helm's memory folder",
      'remove container web-1 (111111111111, image sha256:aaaaaaaaaaaa…) and every volume it mounts, named ones included (their data is archived first)',
    ]);
    expect(
      planSteps(plan({ action: 'remove', params: { volumes: true, archive: false } }, [C1]), names)[0],
    ).toContain('their data is NOT archived');
    const withVolumes = inspectFixture(hex64('1'), 'web-1', {
      Mounts: [
        {
          Type: 'volume',
          Name: 'web-data',
          Source: '/var/lib/docker/volumes/web-data/_data',
          Destination: '/data',
        },
        { Type: 'bind', Source: '/srv/web', Destination: '/srv' },
        {
          Type: 'volume',
          Name: 'web-cache',
          Source: '/var/lib/docker/volumes/web-cache/_data',
          Destination: '/cache',
        },
      ],
    });
    const seen = stepContextOf([withVolumes]);
    const steps = (params: Record<string, unknown>) =>
      planSteps(plan({ action: 'remove', params }, [withVolumes]), seen.names, seen.volumes);
    expect(steps({ volumes: true, archive: false }).slice(1)).toEqual([
      'volume web-data: deleted without archive',
      'volume web-cache: deleted without archive',
    ]);
    expect(steps({ volumes: true }).slice(2)).toEqual([
      'volume web-data: archived first',
      'volume web-cache: archived first',
    ]);
    expect(steps({ volumes: false })).toEqual([
      'remove container web-1 (111111111111, image sha256:aaaaaaaaaaaa…), keeping its volumes',
    ]);
    expect(
      planSteps(
        plan({ action: 'remove', params: { volumes: true, archive: false } }, [C1]),
        names,
        stepContextOf([C1]).volumes,
      )[1],
    ).toBe(
      'container web-1 (111111111111, image sha256:aaaaaaaaaaaa…) mounts no volume: no data is deleted with it',
    );
    expect(planSteps(plan({ action: 'rollback' }, [C1]))[0]).toBe(
      'roll web back to release web:r1 (image sha256:bbbbbbbbbbbb…)',
    );
    expect(planSteps(plan({ action: 'prune', target: 'local', params: { what: 'images' } }, []))).toEqual([
      'delete 1 image on host local:',
      'delete sha256:bbbbbbbbbbbb…',
    ]);
  });

  it('stays within the contract: at most 100 lines of at most 1000 characters', () => {
    const many = Array.from({ length: 60 }, (_, i) =>
      inspectFixture(i.toString(16).padStart(64, '0'), `web-${'x'.repeat(990)}-${i}`),
    );
    const longNames = stepContextOf(many).names;
    const steps = planSteps(plan({ action: 'remove', params: { volumes: true } }, many), longNames);
    expect(steps).toHaveLength(100);
    expect(steps[99]).toMatch(/^… and \d+ more steps like these/);
    for (const line of steps) expect(line.length).toBeLessThanOrEqual(1000);
  });

  it('every line is one line', () => {
    for (const data of [
      { action: 'restart' },
      { action: 'remove', params: { volumes: true } },
      { action: 'rollback' },
    ]) {
      for (const line of planSteps(plan(data), names)) expect(line).not.toMatch(/\n/);
    }
  });
});

describe('a routed service (contract 1.6)', () => {
  const labels = { 'ghost.service': 'web', 'ghost.route.port': '8080', 'ghost.port.env': 'PORT' };
  const routed = [C1, C2].map((c) => ({
    ...c,
    Config: { ...c.Config, Labels: { ...c.Config.Labels, ...labels } },
  }));
  const deploy = (strategy?: string) => ({
    action: 'deploy',
    params: { image: 'shop/web:1.2.4', image_id: IMAGE_B, ...(strategy ? { strategy } : {}) },
  });

  it('is deployed start-first unless the request says recreate; any other service is recreated', () => {
    expect(plan(deploy(), routed).desired).toMatchObject({ strategy: 'start-first' });
    expect(plan(deploy('recreate'), routed).desired).toMatchObject({ strategy: 'recreate' });
    expect(plan(deploy()).desired).toMatchObject({ strategy: 'recreate' });
  });

  it('start-first steps name the instance port, the switch, the checks through the proxy, the drain', () => {
    const steps = planSteps(plan(deploy(), routed), names);
    expect(steps).toContain(
      'start-first behind the proxy: the old containers keep serving until the new ones passed every check',
    );
    const text = steps.join('\n');
    expect(text).toMatch(
      /beside container web-1 .* on a free instance port of its own \(HELM_PROXY_PORT_RANGE/,
    );
    expect(text).toContain(
      "switch the upstreams of Helm's route helm-web in the front proxy to the new instances",
    );
    expect(text).toMatch(/check through the proxy .* switch back to the old ones at once/);
    expect(text).toMatch(/drain the old ones \(HELM_PROXY_DRAIN_S/);
    expect(steps).toContain('if a new instance fails before the switch, remove it: web:r2 serves throughout');
    expect(text).not.toContain('if it is unhealthy, roll back');
    // The old ones stop only after the switch and the drain.
    const stop = steps.findIndex((s) => s.startsWith('stop container web-1'));
    expect(stop).toBeGreaterThan(steps.findIndex((s) => s.startsWith('settle')));
  });
});
