// One replica of a routed service replaced start-first behind a real Caddy (issue 11, step 4): a
// bounded request loop through the proxy's listener answers every request while the new release
// comes up on its own port, the upstream switches, the old one drains and is kept; and while a new
// release that never turns healthy is removed again (the old one serves throughout).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keptName } from '../../../src/docker/kept-containers.js';
import { recreateOptions } from '../../../src/executor/replacement-options.js';
import { type StartFirstPlan, startFirstSwitch } from '../../../src/executor/start-first-switch.js';
import { makeCaddyAdmin } from '../../../src/proxy/caddy-admin.js';
import { allocateInstancePort } from '../../../src/proxy/instance-port.js';
import { type ProxyPort, upstream } from '../../../src/proxy/proxy-port.js';
import { parseRouteLabels, type RoutedService } from '../../../src/proxy/route-labels.js';
import { startTestCaddy, type TestCaddy } from '../../helpers/caddy.js';
import { uniqueName } from '../../helpers/containers.js';
import { freePort, removeTestContainers, startWebService, testLabels } from '../../helpers/docker.js';
import { requestLoopUntil } from '../../helpers/http-upstream.js';
import { makeHarness } from '../executor/exec-harness.js';

describe('start-first behind the proxy', () => {
  let caddy: TestCaddy;
  let proxy: ProxyPort;
  beforeAll(async () => {
    caddy = await startTestCaddy();
    proxy = makeCaddyAdmin({ adminUrl: caddy.adminUrl });
  });
  afterAll(async () => {
    await caddy?.destroy();
    await removeTestContainers();
  });

  /** A routed service of `replicas` running instances (helm-test/web:1), its route in the proxy. */
  async function routedService(replicas = 1) {
    const service = uniqueName('sf');
    const routePort = await freePort();
    const labels = {
      'ghost.service': service,
      'ghost.route.port': String(routePort),
      'ghost.port.env': 'PORT',
      'ghost.healthcheck': 'http://127.0.0.1:{port}/health',
    };
    const olds = await Promise.all(
      Array.from({ length: replicas }, () =>
        startWebService({ name: uniqueName('sf-web'), labels, healthcheck: true }),
      ),
    );
    await proxy.createRoute(
      { service, listen: { kind: 'port', port: routePort, bindHost: '127.0.0.1' } },
      olds.map((o) => upstream(o.port)),
    );
    return { service, routePort, olds, old: olds[0]! };
  }

  /** The start-first plan to `image` for every instance, each on a free port of its own. */
  async function planTo(
    h: ReturnType<typeof makeHarness>,
    s: Awaited<ReturnType<typeof routedService>>,
    image: string,
  ): Promise<StartFirstPlan> {
    const newImage = await h.ctx.docker.inspectImage(image);
    const replicas = [];
    let routed: RoutedService | null = null;
    for (const o of s.olds) {
      const info = await h.ctx.docker.inspectContainer(o.id);
      const built = recreateOptions({
        old: info,
        oldImage: await h.ctx.docker.inspectImage(info.Image),
        newImage,
        imageRef: image,
        name: o.name,
        helmLabels: testLabels(),
      });
      if (!built.ok) throw new Error(built.problem);
      const parsed = parseRouteLabels(info.Config.Labels ?? {});
      if (!parsed.ok || !parsed.routed) throw new Error('not routed');
      routed = parsed.routed;
      const free = await freePort();
      replicas.push({
        name: o.name,
        old: info,
        oldPort: o.port,
        oldKeptName: keptName(o.name, 'r1'),
        options: built.options,
        port: await allocateInstancePort(s.service, { first: free, last: free }, new Set([o.port])),
      });
    }
    return { service: s.service, routed: routed!, expectImageId: newImage.Id, replicas };
  }

  const throughProxy = (routePort: number) => async () => {
    try {
      const res = await fetch(`http://127.0.0.1:${routePort}/`, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      return res.ok ? null : `HTTP ${res.status}`;
    } catch (error) {
      return (error as Error).message;
    }
  };

  it('switches to the new release with no failed request, then drains and keeps the old one', async () => {
    const s = await routedService();
    const h = makeHarness({ stabilityWindowMs: 1000 });
    const plan = await planTo(h, s, 'helm-test/web:2');
    const r = plan.replicas[0]!;
    const run = startFirstSwitch(h.ctx, plan, {
      proxy,
      drainMs: 500,
      throughProxy: throughProxy(s.routePort),
    });
    const load = await requestLoopUntil(`http://127.0.0.1:${s.routePort}/`, run, { perSecond: 200 });
    const result = await run;

    expect(result.ok).toBe(true);
    expect(load.failures).toEqual([]);
    const versions = [...load.bodies.keys()].map((b) => /version (\d)/.exec(b)?.[1]).sort();
    expect(versions).toEqual(['1', '2']);
    // The proxy points at the new instance on its own port; Docker shows it under the service's name.
    expect((await proxy.readRoute(s.service))?.upstreams).toEqual([upstream(r.port)]);
    const now = await h.ctx.docker.inspectContainer(result.ok ? result.ids[0]! : '');
    expect(now.Name).toBe(`/${s.old.name}`);
    expect(now.State.Running).toBe(true);
    expect(now.Config.Labels?.['ghost.healthcheck']).toBe(`http://127.0.0.1:${r.port}/health`);
    const kept = await h.ctx.docker.inspectContainer(s.old.id);
    expect(kept.Name).toBe(`/${r.oldKeptName}`);
    expect(kept.State.Running).toBe(false);
    // The switch is announced (write-ahead) before it is made, after the new one started.
    const steps = h.steps();
    expect(steps.indexOf('switch_upstream')).toBeGreaterThan(steps.indexOf('start_new'));
    expect(steps.indexOf('stop_old')).toBeGreaterThan(steps.indexOf('switch_upstream'));
    console.info(
      `start-first: ${load.bodies.size} versions, ${[...load.bodies.values()].reduce((a, b) => a + b, 0)} requests, 0 failed, ${load.resentOnClosedKeepAlive} resent on a closed keep-alive connection, ${result.ms} ms`,
    );
  });

  it('a new release that never turns healthy is removed; the old one serves throughout', async () => {
    const s = await routedService();
    const h = makeHarness({ stabilityWindowMs: 500, healthTimeoutMs: 5000 });
    const plan = await planTo(h, s, 'helm-test/web-faulty:unhealthy');
    const r = plan.replicas[0]!;
    const run = startFirstSwitch(h.ctx, plan, {
      proxy,
      drainMs: 200,
      throughProxy: throughProxy(s.routePort),
    });
    const load = await requestLoopUntil(`http://127.0.0.1:${s.routePort}/`, run, { perSecond: 200 });
    const result = await run;

    expect(result).toMatchObject({ ok: false, stage: 'before_switch', restored: true });
    expect(load.failures).toEqual([]);
    expect([...load.bodies.keys()].every((b) => b.includes('version 1'))).toBe(true);
    expect((await proxy.readRoute(s.service))?.upstreams).toEqual([upstream(s.old.port)]);
    expect(h.steps()).not.toContain('switch_upstream');
    expect(h.steps()).not.toContain('stop_old');
    const old = await h.ctx.docker.inspectContainer(s.old.id);
    expect(old.State.Running).toBe(true);
    const left = (await h.ctx.docker.listContainers()).filter((c) => c.name === `${s.old.name}-i${r.port}`);
    expect(left).toEqual([]);
  });

  it('a new release that fails after the switch is switched back at once and removed', async () => {
    const s = await routedService();
    const h = makeHarness({ stabilityWindowMs: 1500 });
    const plan = await planTo(h, s, 'helm-test/web:2');
    const r = plan.replicas[0]!;
    // The fault: the new instance is killed 300 ms after the switch, within the checks through the proxy.
    const announce = h.ctx.beforeChange;
    h.ctx.beforeChange = async (step, detail) => {
      await announce(step, detail);
      if (step !== 'switch_upstream') return;
      const instance = (await h.ctx.docker.listContainers()).find(
        (c) => c.name === `${s.old.name}-i${r.port}`,
      );
      setTimeout(() => void h.ctx.docker.killContainer(instance?.id ?? '', 'SIGKILL').catch(() => {}), 300);
    };
    const run = startFirstSwitch(h.ctx, plan, {
      proxy,
      drainMs: 200,
      throughProxy: throughProxy(s.routePort),
    });
    const load = await requestLoopUntil(`http://127.0.0.1:${s.routePort}/`, run, { perSecond: 200 });
    const result = await run;

    expect(result).toMatchObject({ ok: false, stage: 'after_switch', restored: true });
    const steps = h.steps();
    expect(steps.indexOf('switch_back')).toBeGreaterThan(steps.indexOf('switch_upstream'));
    expect(steps).not.toContain('stop_old');
    expect((await proxy.readRoute(s.service))?.upstreams).toEqual([upstream(s.old.port)]);
    expect((await h.ctx.docker.inspectContainer(s.old.id)).State.Running).toBe(true);
    const after = await requestLoopUntil(
      `http://127.0.0.1:${s.routePort}/`,
      new Promise((r) => setTimeout(r, 500)),
    );
    expect(after.failures).toEqual([]);
    const total = load.failures.length + [...load.bodies.values()].reduce((a, b) => a + b, 0);
    console.info(
      `start-first failing after the switch: ${load.failures.length} failed of ${total}: ${load.failures.slice(0, 3).join('; ')}`,
    );
  });

  it('three replicas: the new ones all come up on their own ports, one switch, the old ones drained and kept', async () => {
    const s = await routedService(3);
    const h = makeHarness({ stabilityWindowMs: 1000 });
    const plan = await planTo(h, s, 'helm-test/web:2');
    const run = startFirstSwitch(h.ctx, plan, {
      proxy,
      drainMs: 300,
      throughProxy: throughProxy(s.routePort),
    });
    const load = await requestLoopUntil(`http://127.0.0.1:${s.routePort}/`, run, { perSecond: 200 });
    const result = await run;

    expect(result.ok).toBe(true);
    expect(load.failures).toEqual([]);
    const newPorts = plan.replicas.map((r) => r.port);
    expect((await proxy.readRoute(s.service))?.upstreams).toEqual(newPorts.map(upstream));
    const steps = h.steps();
    expect(steps.filter((x) => x === 'switch_upstream')).toHaveLength(1);
    // Every new instance started before the switch, every old one stopped after it.
    expect(steps.lastIndexOf('start_new')).toBeLessThan(steps.indexOf('switch_upstream'));
    expect(steps.indexOf('stop_old')).toBeGreaterThan(steps.indexOf('settle_upstream'));
    for (const [i, o] of s.olds.entries()) {
      const kept = await h.ctx.docker.inspectContainer(o.id);
      expect(kept.State.Running).toBe(false);
      expect(kept.Name).toBe(`/${plan.replicas[i]!.oldKeptName}`);
      const now = await h.ctx.docker.inspectContainer(result.ok ? result.ids[i]! : '');
      expect(now.Name).toBe(`/${o.name}`);
      expect(now.State.Running).toBe(true);
    }
    const total = [...load.bodies.values()].reduce((a, b) => a + b, 0);
    console.info(`start-first, 3 replicas: ${total} requests, 0 failed, ${result.ms} ms`);
  });
});
