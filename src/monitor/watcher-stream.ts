import type { ContainerEvent, EventSubscription } from '../docker/docker-client.js';
import { formatDuration } from './monitor-alerts.js';
import type { WatcherCore } from './watcher-types.js';

/**
 * Docker's events stream: subscribe, then reconcile what changed while blind; when it ends,
 * reconnect with backoff (doubling up to reconnectMaxMs), and when the engine stays unreachable for
 * engineDownAlertAfterMs raise ONE helm_degraded alert, resolved once it answers again.
 */
export function startEventStream(
  core: WatcherCore,
  handlers: {
    onEvent(e: ContainerEvent): void;
    reconcile(blindSince: number | null, first: boolean): Promise<void>;
  },
): { ready: Promise<void>; connected(): boolean; stop(): void } {
  const { deps, rules } = core;
  let subscription: EventSubscription | null = null;
  let lostAt: number | null = null;
  let attempt = 0;
  let degradedSent = false;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let everConnected = false;

  async function connect(): Promise<boolean> {
    let sub: EventSubscription;
    try {
      sub = await deps.events.subscribeContainerEvents({ onEvent: handlers.onEvent, onEnd: onLost });
    } catch (err) {
      deps.logger.warn({ err }, 'monitor: cannot subscribe to Docker events');
      return false;
    }
    if (core.closed()) {
      sub.close();
      return true;
    }
    subscription = sub;
    try {
      await handlers.reconcile(everConnected ? lostAt : null, !everConnected);
      everConnected = true;
    } catch (err) {
      deps.logger.warn({ err }, 'monitor: reconcile failed; reconnecting');
      subscription = null;
      sub.close();
      return false;
    }
    return true;
  }

  function onLost(err: Error | null) {
    if (core.closed()) return;
    subscription = null;
    lostAt = core.now();
    deps.logger.warn({ err }, 'monitor: the Docker events stream ended; reconnecting');
    void core.log({
      event: 'monitor_stream_lost',
      message: `the Docker events stream ended (${err?.message ?? 'closed by the engine'}); reconnecting with backoff, then reconciling`,
    });
    attempt = 0;
    scheduleReconnect();
  }

  function scheduleReconnect() {
    if (core.closed()) return;
    const delay = Math.min(rules.reconnectMaxMs, rules.reconnectInitialMs * 2 ** Math.min(attempt, 20));
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      void reconnect();
    }, delay);
  }

  async function reconnect() {
    if (core.closed()) return;
    const ok = await connect();
    if (core.closed()) return;
    if (ok) return back();
    attempt += 1;
    if (!degradedSent && lostAt !== null && core.now() - lostAt >= rules.engineDownAlertAfterMs) {
      degradedSent = true;
      await engineDown(lostAt);
    }
    scheduleReconnect();
  }

  async function back() {
    const blindMs = lostAt === null ? 0 : core.now() - lostAt;
    await core.log({
      event: 'monitor_stream_back',
      message: `the Docker events stream is back after ${formatDuration(blindMs)}; reconciled ${core.tracked.size} managed containers`,
    });
    if (degradedSent) {
      degradedSent = false;
      await core.send({
        severity: 'info',
        kind: 'resolved',
        message: `Helm reaches the Docker engine again after ${formatDuration(blindMs)}; what changed meanwhile was reconciled`,
        details: { unreachable_ms: blindMs },
        dedup_key: `helm_degraded:docker`,
      });
    }
    lostAt = null;
    attempt = 0;
  }

  async function engineDown(since: number) {
    const message = `Helm cannot reach the Docker engine since ${new Date(since).toISOString()}: no managed container is watched until it answers (one alert for all of them)`;
    await Promise.all([
      core.send({
        severity: 'critical',
        kind: 'helm_degraded',
        message,
        details: { since: new Date(since).toISOString(), host: deps.host },
        dedup_key: 'helm_degraded:docker',
      }),
      core.log({ event: 'monitor_engine_down', code: 'docker_error', message }),
    ]);
  }

  const ready = (async () => {
    lostAt = core.now();
    const ok = await connect();
    if (ok) lostAt = null;
    else scheduleReconnect();
  })();

  return {
    ready,
    connected: () => subscription !== null,
    stop() {
      subscription?.close();
      subscription = null;
      if (reconnectTimer) clearTimeout(reconnectTimer);
    },
  };
}
