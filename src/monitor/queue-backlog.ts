import type { AlertInput } from '../bus/alert-sender.js';
import { BACKLOG_FLOOR, judgeQueue, type QueueSample } from '../bus/queue-health.js';
import type { WatchOutputs } from './watcher-types.js';

/**
 * helm_degraded when Helm cannot keep up with its own queues: helm.actions' waiting count growing
 * over several samples (queue-health.ts's judgement: rising in each of the last samples and above
 * its floor) raises ONE `helm_degraded:queues` alert (warning); it is resolved once the backlog has
 * drained below the floor. Whether anybody consumes it is the heartbeat's business, not this.
 */
export const QUEUE_DEGRADED_KEY = 'helm_degraded:queues';

export type BacklogPhase = 'ok' | 'degraded';

export interface BacklogStep {
  phase: BacklogPhase;
  emit: 'degraded' | 'drained' | null;
  message: string;
}

/** Pure: the next phase from the samples so far (oldest first). */
export function judgeBacklog(
  queue: string,
  phase: BacklogPhase,
  samples: ReadonlyArray<QueueSample>,
  drainedBelow: number = BACKLOG_FLOOR,
): BacklogStep {
  // Only the growth judgement counts here: an absent consumer is reported by the heartbeat.
  const verdict = judgeQueue(
    queue,
    samples.map((s) => ({ ...s, consumers: Math.max(1, s.consumers) })),
  );
  const last = samples.at(-1);
  if (phase === 'ok') {
    if (verdict.state === 'backlog_growing')
      return { phase: 'degraded', emit: 'degraded', message: verdict.message };
    return { phase, emit: null, message: verdict.message };
  }
  if (last && last.waiting < drainedBelow)
    return {
      phase: 'ok',
      emit: 'drained',
      message: `${queue} has drained (${last.waiting} waiting): Helm keeps up again`,
    };
  return { phase, emit: null, message: verdict.message };
}

export interface WaitingCounter {
  name: string;
  getWaitingCount(): Promise<number>;
  getWorkersCount(): Promise<number>;
}

export interface QueueBacklogDeps extends WatchOutputs {
  queue: WaitingCounter;
  /** @defaultValue 15_000 */
  intervalMs?: number;
}

export interface QueueBacklogWatch {
  sampleNow(): Promise<AlertInput | null>;
  phase(): BacklogPhase;
  close(): void;
}

const KEEP = 10;

export function startQueueBacklogWatch(deps: QueueBacklogDeps): QueueBacklogWatch {
  const samples: QueueSample[] = [];
  let phase: BacklogPhase = 'ok';
  let since = 0;
  let busy: Promise<AlertInput | null> | null = null;

  async function sample(): Promise<AlertInput | null> {
    const [waiting, consumers] = await Promise.all([
      deps.queue.getWaitingCount(),
      deps.queue.getWorkersCount(),
    ]);
    const at = deps.clock.now().getTime();
    samples.push({ at, waiting, consumers });
    if (samples.length > KEEP) samples.shift();
    const r = judgeBacklog(deps.queue.name, phase, samples);
    phase = r.phase;
    if (!r.emit) return null;
    let alert: AlertInput;
    if (r.emit === 'degraded') {
      since = at;
      alert = {
        severity: 'warning',
        kind: 'helm_degraded',
        message: `Helm is not keeping up with its queue on ${deps.host}: ${r.message}`,
        details: {
          queue: deps.queue.name,
          waiting,
          consumers,
          samples: samples.slice(-4).map((s) => s.waiting),
        },
        dedup_key: QUEUE_DEGRADED_KEY,
      };
    } else {
      alert = {
        severity: 'info',
        kind: 'resolved',
        message: `${r.message} (behind since ${new Date(since).toISOString()})`,
        details: { queue: deps.queue.name, waiting, consumers, degraded_ms: at - since },
        dedup_key: QUEUE_DEGRADED_KEY,
      };
    }
    await Promise.all([
      deps.alerts.send(alert),
      deps.runLog
        .append({
          event: r.emit === 'degraded' ? 'helm_degraded' : 'helm_degraded_resolved',
          code: 'queue_backlog',
          message: `${alert.message} [${QUEUE_DEGRADED_KEY}]`,
        })
        .catch((err) => deps.logger.error({ err }, 'monitor: could not log')),
    ]);
    return alert;
  }

  function sampleNow(): Promise<AlertInput | null> {
    busy ??= sample().finally(() => {
      busy = null;
    });
    return busy;
  }

  const timer = setInterval(
    () =>
      void sampleNow().catch((err) => deps.logger.warn({ err }, 'monitor: the queue backlog sample failed')),
    deps.intervalMs ?? 15_000,
  );
  timer.unref?.();
  return { sampleNow, phase: () => phase, close: () => clearInterval(timer) };
}
