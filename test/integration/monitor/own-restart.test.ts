// Helm's own dev auto-restart is never the owner's stop (issue 8, item 5). A crash loop of
// helm-test/web-faulty:crash-now under the real monitor: when Helm's `docker restart` finds the
// container running (started again meanwhile, or its exit not yet processed by Docker; injected here
// by starting it just before the restart reaches Docker), Docker sends kill, die, stop, start, which
// the monitor judged after its lease was released and reported as "(docker stop) outside Helm". The
// owner's real `docker stop` in the same loop is still stopped_by_owner, and stays stopped.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeDockerOps } from '../../../src/docker/dockerode-ops.js';
import { uniqueName, waitFor } from '../../helpers/containers.js';
import { freePort, removeTestContainers, testDocker, testLabels } from '../../helpers/docker.js';
import { type MonitorHarness, startMonitorHarness } from './monitor-harness.js';

const CRASH_NOW = 'helm-test/web-faulty:crash-now';
/** Containers whose restarts find them running (the injected race). */
const startedBeforeRestart = new Set<string>();

let h: MonitorHarness;
beforeAll(async () => {
  const ops = makeDockerOps(process.env['DOCKER_HOST']);
  h = await startMonitorHarness({
    rules: { baseDelayMs: 100, maxDelayMs: 400, maxRestarts: 3, recoveryStableMs: 5_000 },
    extra: {
      docker: {
        ...ops,
        // The fault: the container runs again by the time Helm's restart reaches Docker.
        async restartContainer(id, timeoutS) {
          if (startedBeforeRestart.has(id)) await testDocker().getContainer(id).start();
          await ops.restartContainer(id, timeoutS);
        },
      },
    },
  });
});
afterAll(async () => {
  await h?.close();
  await removeTestContainers();
});

/**
 * A dev container of the crash-now image (its own command: it exits 3 at start), behind a 1 s slow
 * start so that a stop can reach it while it runs.
 */
async function crashNow(name: string) {
  const cmd = (await testDocker().getImage(CRASH_NOW).inspect()).Config.Cmd;
  const c = await testDocker().createContainer({
    name,
    Image: CRASH_NOW,
    Entrypoint: ['/bin/sh', '-c', 'sleep 1; exec "$@"', 'slow-start'],
    Cmd: cmd,
    Env: [`PORT=${await freePort()}`],
    Labels: testLabels({ ...h.scopeLabel, 'ghost.service': name, 'ghost.environment': 'dev' }),
    HostConfig: { NetworkMode: 'host', Init: true },
  });
  return c;
}

describe("Helm's own auto-restart in a crash loop", () => {
  it('a restart that finds the container running is not stopped_by_owner; the loop goes on to crash_loop', async () => {
    const name = uniqueName('mon-own');
    const c = await crashNow(name);
    startedBeforeRestart.add(c.id);
    await c.start();
    const loop = await h.waitForAlert(
      'crash_loop',
      (a) => a.kind === 'crash_loop' && a.target === name,
      40_000,
    );
    expect(loop.alert.details).toMatchObject({ crashes: 4 });
    expect(h.alertsFor(name).map((a) => a.kind)).toEqual(['downtime', 'crash_loop']);
    const events = await h.runLogEvents(name);
    expect(events).not.toContain('monitor_owner_stop');
    expect(events.filter((e) => e === 'auto_restart')).toHaveLength(3);
    // Helm's restarts stopped a running container three times: each was logged as Helm's own.
    expect(events).toContain('monitor_intended');
  }, 60_000);

  it("the owner's docker stop during the loop is still stopped_by_owner, and Helm leaves it stopped", async () => {
    const name = uniqueName('mon-own-stop');
    const c = await crashNow(name);
    await c.start();
    await h.waitForAlert('downtime', (a) => a.kind === 'downtime' && a.target === name);
    // Helm restarted it (backoff 0.1 s): stop it while it runs its slow start.
    await waitFor(async () => (await h.runLogEvents(name)).includes('auto_restart'), 'the auto-restart');
    await waitFor(async () => (await c.inspect()).State.Running, 'the restarted container to run');
    await c.stop({ t: 5 });
    const stop = await h.waitForAlert(
      'stopped_by_owner',
      (a) => a.kind === 'stopped_by_owner' && a.target === name,
    );
    expect(stop.alert.message).toMatch(/stopped \(docker stop\) outside Helm/);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await c.inspect()).State.Running).toBe(false);
    const events = await h.runLogEvents(name);
    expect(events.filter((e) => e === 'auto_restart')).toHaveLength(1);
    expect(events.at(-1)).toBe('monitor_owner_stop');
  }, 60_000);
});
