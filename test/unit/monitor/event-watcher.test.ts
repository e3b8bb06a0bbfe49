// The event watcher against a fake engine: events pushed by the test, containers the test edits, a
// subscription the test can break or refuse. Real timers with short rules.
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { AlertInput } from '../../../src/bus/alert-sender.js';
import { systemClock } from '../../../src/base/clock.js';
import { DockerNotFoundError, DockerUnavailableError } from '../../../src/docker/docker-errors.js';
import type { ContainerInspect } from '../../../src/docker/docker-objects.js';
import type { ContainerEventHandlers, ContainerSummary } from '../../../src/docker/docker-ports.js';
import { type EventWatcher, startEventWatcher } from '../../../src/monitor/event-watcher.js';
import type { RunLogEntryInput } from '../../../src/runlog/index.js';

interface FakeContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  restartCount: number;
  health?: string;
  restartPolicy?: string;
}

const SCOPE = { labels: [{ key: 'ghost.scope', value: 't' }], allServices: false, composeProjects: [] };

function fakeEngine() {
  const containers = new Map<string, FakeContainer>();
  let handlers: ContainerEventHandlers | null = null;
  let reachable = true;
  let subscriptions = 0;
  const restarts: string[] = [];
  const summary = (c: FakeContainer): ContainerSummary => ({
    id: c.id,
    name: c.name,
    image: 'img',
    imageId: 'sha256:x',
    labels: c.labels,
    state: c.running ? 'running' : 'exited',
    status: '',
    createdAt: 0,
  });
  const inspect = (c: FakeContainer) =>
    ({
      Id: c.id,
      Name: `/${c.name}`,
      Image: 'sha256:x',
      RestartCount: c.restartCount,
      Config: {
        Labels: c.labels,
        Image: 'img',
        ...(c.health ? { Healthcheck: { Test: ['CMD', 'true'] } } : {}),
      },
      HostConfig: { RestartPolicy: { Name: c.restartPolicy ?? 'no', MaximumRetryCount: 0 } },
      State: {
        Running: c.running,
        Restarting: false,
        Status: c.running ? 'running' : 'exited',
        StartedAt: c.startedAt,
        FinishedAt: c.finishedAt,
        ExitCode: c.exitCode,
        OOMKilled: false,
        ...(c.health ? { Health: { Status: c.health, Log: [{ Output: 'health says no' }] } } : {}),
      },
    }) as unknown as ContainerInspect;
  return {
    containers,
    restarts,
    get subscriptions() {
      return subscriptions;
    },
    add(id: string, env: string, over: Partial<FakeContainer> = {}) {
      const c: FakeContainer = {
        id: createHash('sha256').update(id).digest('hex'),
        name: id,
        labels: { 'ghost.scope': 't', 'ghost.service': id, 'ghost.environment': env },
        running: true,
        startedAt: new Date(Date.now() - 60_000).toISOString(),
        finishedAt: '0001-01-01T00:00:00Z',
        exitCode: 0,
        restartCount: 0,
        ...over,
      };
      containers.set(c.id, c);
      return c;
    },
    emit(c: FakeContainer, action: string, attrs: Record<string, string> = {}, health: string | null = null) {
      handlers?.onEvent({ action, health, id: c.id, attributes: { ...c.labels, ...attrs }, at: Date.now() });
    },
    /** Docker-side crash: state changes, and the die event unless the stream is down. */
    crash(c: FakeContainer, exitCode = 1, emit = true) {
      c.running = false;
      c.exitCode = exitCode;
      c.finishedAt = new Date().toISOString();
      if (emit) this.emit(c, 'die', { exitCode: String(exitCode) });
    },
    start(c: FakeContainer, emit = true) {
      c.running = true;
      c.startedAt = new Date().toISOString();
      if (emit) this.emit(c, 'start');
    },
    breakStream() {
      const h = handlers;
      handlers = null;
      h?.onEnd(new Error('socket hang up'));
    },
    setReachable(v: boolean) {
      reachable = v;
    },
    events: {
      async subscribeContainerEvents(h: ContainerEventHandlers) {
        if (!reachable) throw new DockerUnavailableError(new Error('ECONNREFUSED'));
        subscriptions += 1;
        handlers = h;
        return {
          close() {
            handlers = null;
          },
        };
      },
    },
    docker: {
      async listContainers() {
        if (!reachable) throw new DockerUnavailableError(new Error('ECONNREFUSED'));
        return [...containers.values()].map(summary);
      },
      async inspectContainer(id: string) {
        const c = containers.get(id);
        if (!c) throw new DockerNotFoundError(`container ${id}`);
        return inspect(c);
      },
      async inspectImage() {
        return { Config: { Labels: {} } } as never;
      },
    },
  };
}

function start(engine: ReturnType<typeof fakeEngine>, rules = {}, readOnly = false) {
  const alerts: AlertInput[] = [];
  const log: RunLogEntryInput[] = [];
  const watcher = startEventWatcher({
    events: engine.events,
    docker: engine.docker,
    scope: SCOPE,
    classification: [],
    isIntended: async () => false,
    alerts: {
      async send(a) {
        alerts.push(a);
        return null;
      },
    },
    runLog: {
      async append(e) {
        log.push(e);
        return {} as never;
      },
    },
    clock: systemClock,
    logger: { info() {}, warn() {}, error() {} },
    restartContainer: readOnly
      ? null
      : async (id) => {
          engine.restarts.push(id);
          const c = engine.containers.get(id);
          if (c) engine.start(c);
          return 'restarted';
        },
    host: 'h1',
    rules: {
      ownerStopGraceMs: 30,
      recoveryStableMs: 50,
      reconnectInitialMs: 20,
      reconnectMaxMs: 40,
      engineDownAlertAfterMs: 150,
      baseDelayMs: 10,
      maxDelayMs: 50,
      groupWindowMs: 100,
      ...rules,
    },
  });
  watchers.push(watcher);
  return { watcher, alerts, log };
}

const watchers: EventWatcher[] = [];
afterEach(async () => {
  await Promise.all(watchers.splice(0).map((w) => w.close()));
});

async function until(what: string, fn: () => boolean, ms = 3_000) {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('event watcher (fake engine)', () => {
  it('a managed production crash is one critical downtime alert within milliseconds; outside the scope, nothing', async () => {
    const engine = fakeEngine();
    const web = engine.add('web', 'production');
    const other = engine.add('other', 'production', { labels: { 'ghost.service': 'other' } });
    const { watcher, alerts, log } = start(engine);
    await watcher.ready;
    const t0 = Date.now();
    engine.crash(other);
    engine.crash(web);
    await until('downtime', () => alerts.length > 0);
    expect(Date.now() - t0).toBeLessThan(100);
    await watcher.idle();
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'downtime', severity: 'critical', target: 'web' });
    expect(log.map((e) => e.event)).toEqual(['monitor_started', 'monitor_down']);
  });

  it('reconnects after the stream broke and reports what died (and what died and came back) meanwhile', async () => {
    const engine = fakeEngine();
    const a = engine.add('a', 'production');
    const b = engine.add('b', 'staging');
    const { watcher, alerts, log } = start(engine);
    await watcher.ready;
    engine.breakStream();
    expect(watcher.connected()).toBe(false);
    engine.crash(a, 3, false);
    engine.crash(b, 1, false);
    await new Promise((r) => setTimeout(r, 5));
    engine.start(b, false);
    await until('reconciled', () => alerts.length >= 3);
    await watcher.idle();
    expect(watcher.connected()).toBe(true);
    const byKind = alerts.map((x) => `${x.kind}:${x.target}`);
    expect(byKind).toContain('downtime:a');
    expect(byKind).toContain('downtime:b');
    expect(byKind).toContain('recovered:b');
    const recovered = alerts.find((x) => x.kind === 'recovered');
    expect(recovered?.dedup_key).toBe(
      alerts.find((x) => x.kind === 'downtime' && x.target === 'b')?.dedup_key,
    );
    expect(log.map((e) => e.event)).toEqual(
      expect.arrayContaining(['monitor_stream_lost', 'monitor_stream_back', 'monitor_reconciled']),
    );
  });

  it('the engine unreachable is ONE helm_degraded alert, resolved when it answers; fifty dead containers are grouped', async () => {
    const engine = fakeEngine();
    const all = Array.from({ length: 50 }, (_, i) => engine.add(`svc${i}`, 'production'));
    const { watcher, alerts } = start(engine, { groupWindowMs: 1_000 });
    await watcher.ready;
    engine.setReachable(false);
    engine.breakStream();
    for (const c of all) engine.crash(c, 143, false);
    await until('helm_degraded', () => alerts.some((a) => a.kind === 'helm_degraded'));
    await new Promise((r) => setTimeout(r, 200));
    expect(alerts.filter((a) => a.kind === 'helm_degraded')).toHaveLength(1);
    engine.setReachable(true);
    await until('group alert', () => alerts.some((a) => a.dedup_key.startsWith('downtime:group:h1:')));
    await watcher.idle();
    expect(
      alerts.filter((a) => a.kind === 'resolved' && a.dedup_key === 'helm_degraded:docker'),
    ).toHaveLength(1);
    const downs = alerts.filter((a) => a.kind === 'downtime');
    expect(downs).toHaveLength(4); // three one by one, then one for the other 47
    expect(downs[3]?.details).toMatchObject({ grouped: 47 });
  });

  it('restarts a dev crash with backoff, stops at a crash loop, and never restarts production', async () => {
    const engine = fakeEngine();
    const dev = engine.add('devsvc', 'dev');
    const prod = engine.add('prodsvc', 'production');
    const { watcher, alerts, log } = start(engine, { maxRestarts: 3, recoveryStableMs: 10_000 });
    await watcher.ready;
    engine.crash(prod);
    for (let i = 0; i < 4; i++) {
      engine.crash(dev);
      await until(
        `restart ${i + 1}`,
        () => engine.restarts.length === i + 1 || alerts.some((a) => a.kind === 'crash_loop'),
      );
    }
    engine.crash(dev);
    await until('crash_loop', () => alerts.some((a) => a.kind === 'crash_loop'));
    await new Promise((r) => setTimeout(r, 150));
    await watcher.idle();
    expect(engine.restarts.every((id) => id === dev.id)).toBe(true);
    expect(engine.restarts).toHaveLength(3);
    expect(alerts.filter((a) => a.target === 'devsvc').map((a) => `${a.kind}/${a.severity}`)).toEqual([
      'downtime/info',
      'crash_loop/warning',
    ]);
    expect(log.filter((e) => e.event === 'auto_restart')).toHaveLength(3);
  });

  it("an owner's stop is info, and a dev container stopped on purpose stays stopped", async () => {
    const engine = fakeEngine();
    const dev = engine.add('devsvc', 'dev');
    const { watcher, alerts } = start(engine);
    await watcher.ready;
    engine.emit(dev, 'kill', { signal: '15' });
    engine.crash(dev, 143);
    engine.emit(dev, 'stop');
    await new Promise((r) => setTimeout(r, 150));
    await watcher.idle();
    expect(alerts.map((a) => `${a.kind}/${a.severity}`)).toEqual(['stopped_by_owner/info']);
    expect(engine.restarts).toEqual([]);
  });

  it('a Helm with a read-only Docker reports a dev crash and restarts nothing', async () => {
    const engine = fakeEngine();
    const dev = engine.add('devsvc', 'dev');
    const { watcher, alerts, log } = start(engine, {}, true);
    await watcher.ready;
    engine.crash(dev);
    await until('downtime', () => alerts.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    await watcher.idle();
    expect(alerts[0]?.message).toMatch(/read-only Docker and restarts nothing/);
    expect(engine.restarts).toEqual([]);
    expect(log.map((e) => e.event)).not.toContain('auto_restart');
  });
});
