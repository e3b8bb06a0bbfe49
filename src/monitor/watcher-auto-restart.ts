import type { WatcherCore } from './watcher-types.js';

/**
 * A dev container's restart, when its delay is up: only for the incident it was scheduled for and
 * only while the container is still down for it (a start, a stop on purpose, a removal since cancel
 * it); never beside Helm's own operation; logged before Docker is called.
 */
export async function autoRestart(core: WatcherCore, id: string, key: string): Promise<void> {
  const t = core.tracked.get(id);
  const restart = core.deps.restartContainer;
  if (core.closed() || !t || !restart) return;
  const f = t.facts;
  const common = { target: f.service, environment: f.environment };
  if (t.state.phase !== 'down' || t.state.incident?.key !== key) return;
  if (await core.deps.isIntended(id, f.service, null)) {
    await core.log({
      ...common,
      event: 'auto_restart_skipped',
      message: `${f.name}: Helm is changing ${f.service} now; the monitor leaves it to that operation`,
    });
    return;
  }
  // Helm changes nothing it cannot log.
  const logged = await core.log({
    ...common,
    event: 'auto_restart',
    message: `restarting crashed dev container ${f.name} (${f.service}) on its own [${key}]`,
  });
  if (!logged) return;
  // Said before Docker is called: its kill/die/stop (a restart that finds the container running)
  // are judged after the lease is released, and must still be Helm's own.
  await core.apply(id, t, { type: 'own_restart', at: core.now(), active: true });
  try {
    const outcome = await restart(id, f.service);
    // Docker was not called (busy, running): nothing of Helm's is coming.
    if (outcome !== 'restarted')
      await core.apply(id, t, { type: 'own_restart', at: core.now(), active: false });
    if (outcome !== 'restarted')
      await core.log({
        ...common,
        event: 'auto_restart_skipped',
        message:
          outcome === 'busy'
            ? `${f.name}: an operation holds ${f.service}'s lease; not restarted`
            : `${f.name} is already running; not restarted`,
      });
  } catch (err) {
    // What Docker did before it failed is judged on its own (default: reported).
    await core.apply(id, t, { type: 'own_restart', at: core.now(), active: false });
    core.deps.logger.error({ err, container: f.name }, 'monitor: auto-restart failed');
    await core.log({
      ...common,
      event: 'auto_restart_failed',
      code: 'docker_error',
      message: `restarting ${f.name} failed: ${(err as Error).message}`,
    });
  }
}
