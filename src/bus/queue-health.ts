/**
 * Pure judgement of a queue that another agent consumes (warden.requests, sentinel.alerts): is
 * anybody taking from it, and is its backlog growing? Fed with samples by queue-watch.ts.
 */
export interface QueueSample {
  at: number;
  consumers: number;
  waiting: number;
}

export type QueueState = 'ok' | 'consumer_absent' | 'backlog_growing' | 'unknown';

export interface QueueVerdict {
  state: QueueState;
  message: string;
}

/** A backlog "grows" when it rose in every one of the last N samples and is above a floor. */
export const GROWTH_SAMPLES = 3;
export const BACKLOG_FLOOR = 10;

export function judgeQueue(queue: string, samples: ReadonlyArray<QueueSample>): QueueVerdict {
  const last = samples.at(-1);
  if (!last) return { state: 'unknown', message: `${queue}: not sampled yet` };
  if (last.consumers === 0) {
    return {
      state: 'consumer_absent',
      message: `${queue} has no consumer connected (${last.waiting} waiting): its agent is down or not started`,
    };
  }
  const recent = samples.slice(-(GROWTH_SAMPLES + 1));
  const rising =
    recent.length === GROWTH_SAMPLES + 1 &&
    recent.every((s, i) => i === 0 || s.waiting > recent[i - 1]!.waiting);
  if (rising && last.waiting >= BACKLOG_FLOOR) {
    return {
      state: 'backlog_growing',
      message: `${queue} backlog is growing (${recent.map((s) => s.waiting).join(' → ')} waiting) with ${last.consumers} consumer(s): its agent is not keeping up`,
    };
  }
  return { state: 'ok', message: `${queue}: ${last.consumers} consumer(s), ${last.waiting} waiting` };
}
