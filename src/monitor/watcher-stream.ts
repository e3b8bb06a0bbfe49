import type { ContainerEvent, EventSubscription } from '../docker/docker-ports.js';
import { formatDuration } from './monitor-alerts.js';
import type { WatcherCore } from './watcher-types.js';

export interface StreamHandlers {
  onEvent(e: ContainerEvent): void;
  /** `blindSince`: when the stream was lost (null the first time); `first`: the first reconcile. */
  reconcile(blindSince: number | null, first: boolean): Promise<void>;
}

/** The stream's state between connects. */
interface Stream {
  core: WatcherCore;
  handlers: StreamHandlers;
  subscription: EventSubscription | null;
  lostAt: number | null;
  attempt: number;
  degradedSent: boolean;
  reconnectTimer: NodeJS.Timeout | null;
  everConnected: boolean;
}

/**
 * Docker's events stream: subscribe, then reconcile what changed while blind; when it ends,
 * reconnect with backoff (doubling up to reconnectMaxMs), and when the engine stays unreachable for
 * engineDownAlertAfterMs raise ONE helm_degraded alert, resolved once it answers again.
 */
export function startEventStream(
  core: WatcherCore,
  handlers: StreamHandlers,
): { ready: Promise<void>; connected(): boolean; stop(): void } {
  const s: Stream = {
    core,
    handlers,
    subscription: null,
    lostAt: null,
    attempt: 0,
    degradedSent: false,
    reconnectTimer: null,
    everConnected: false,
  };
  const ready = (async () => {
    s.lostAt = core.now();
    const ok = await connect(s);
    if (ok) s.lostAt = null;
    else scheduleReconnect(s);
  })();
  return {
    ready,
    connected: () => s.subscription !== null,
    stop() {
      s.subscription?.close();
      s.subscription = null;
      if (s.reconnectTimer) clearTimeout(s.reconnectTimer);
    },
  };
}

/** Subscribes and reconciles; false when either failed (the caller reconnects). */
async function connect(s: Stream): Promise<boolean> {
  const { deps } = s.core;
  let sub: EventSubscription;
  try {
    sub = await deps.events.subscribeContainerEvents({
      onEvent: s.handlers.onEvent,
      onEnd: (err) => onLost(s, err),
    });
  } catch (err) {
    deps.logger.warn({ err }, 'monitor: cannot subscribe to Docker events');
    return false;
  }
  if (s.core.closed()) {
    sub.close();
    return true;
  }
  s.subscription = sub;
  try {
    await s.handlers.reconcile(s.everConnected ? s.lostAt : null, !s.everConnected);
    s.everConnected = true;
  } catch (err) {
    deps.logger.warn({ err }, 'monitor: reconcile failed; reconnecting');
    s.subscription = null;
    sub.close();
    return false;
  }
  return true;
}

function onLost(s: Stream, err: Error | null) {
  if (s.core.closed()) return;
  s.subscription = null;
  s.lostAt = s.core.now();
  s.core.deps.logger.warn({ err }, 'monitor: the Docker events stream ended; reconnecting');
  void s.core.log({
    event: 'monitor_stream_lost',
    message: `the Docker events stream ended (${err?.message ?? 'closed by the engine'}); reconnecting with backoff, then reconciling`,
  });
  s.attempt = 0;
  scheduleReconnect(s);
}

function scheduleReconnect(s: Stream) {
  if (s.core.closed()) return;
  const { rules } = s.core;
  const delay = Math.min(rules.reconnectMaxMs, rules.reconnectInitialMs * 2 ** Math.min(s.attempt, 20));
  s.reconnectTimer = setTimeout(() => {
    s.reconnectTimer = null;
    void reconnect(s);
  }, delay);
}

async function reconnect(s: Stream) {
  const { core } = s;
  if (core.closed()) return;
  const ok = await connect(s);
  if (core.closed()) return;
  if (ok) return back(s);
  s.attempt += 1;
  if (!s.degradedSent && s.lostAt !== null && core.now() - s.lostAt >= core.rules.engineDownAlertAfterMs) {
    s.degradedSent = true;
    await engineDown(core, s.lostAt);
  }
  scheduleReconnect(s);
}

/** The stream is back: logged, and the engine-down alert (if one went out) resolved. */
async function back(s: Stream) {
  const { core } = s;
  const blindMs = s.lostAt === null ? 0 : core.now() - s.lostAt;
  await core.log({
    event: 'monitor_stream_back',
    message: `the Docker events stream is back after ${formatDuration(blindMs)}; reconciled ${core.tracked.size} managed containers`,
  });
  if (s.degradedSent) {
    s.degradedSent = false;
    await core.send({
      severity: 'info',
      kind: 'resolved',
      message: `Helm reaches the Docker engine again after ${formatDuration(blindMs)}; what changed meanwhile was reconciled`,
      details: { unreachable_ms: blindMs },
      dedup_key: `helm_degraded:docker`,
    });
  }
  s.lostAt = null;
  s.attempt = 0;
}

/** ONE helm_degraded alert for every managed container: none is watched until the engine answers. */
async function engineDown(core: WatcherCore, since: number) {
  const message = `Helm cannot reach the Docker engine since ${new Date(since).toISOString()}: no managed container is watched until it answers (one alert for all of them)`;
  await Promise.all([
    core.send({
      severity: 'critical',
      kind: 'helm_degraded',
      message,
      details: { since: new Date(since).toISOString(), host: core.deps.host },
      dedup_key: 'helm_degraded:docker',
    }),
    core.log({ event: 'monitor_engine_down', code: 'docker_error', message }),
  ]);
}
