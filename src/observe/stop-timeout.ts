import type { ContainerInspect } from '../docker/docker-objects.js';
import { LABEL } from '../docker/labels.js';

/** Stop timeout for a replaced container when its own config names none (Docker's default). */
export const DEFAULT_STOP_TIMEOUT_S = 10;

/** The longest wait a label may ask for (the contract's own bound on a stop's timeout_s). */
export const MAX_STOP_TIMEOUT_S = 600;

/**
 * How long Helm lets a container's process exit after the stop signal before Docker kills it, and
 * where that number came from: the `ghost.stop-timeout` label, else the container's own StopTimeout
 * (`docker run --stop-timeout`), else Docker's default of 10 s.
 */
export interface StopWait {
  seconds: number;
  from: 'label' | 'container' | 'default';
  /** A label that was set but could not be used (it is then ignored, never guessed at). */
  problem: string | null;
}

/**
 * Decides the stop wait of a container. A bad label never shortens the wait: a process cut off
 * early may lose data, while a longer wait only costs time, so a label that is not a whole number
 * of seconds from 0 to 600 is ignored (the container's own StopTimeout or Docker's 10 s apply) and
 * the problem is reported.
 */
export function stopWaitOf(info: Pick<ContainerInspect, 'Config'>): StopWait {
  const own = (info.Config as { StopTimeout?: number | null }).StopTimeout;
  const fallback: StopWait =
    typeof own === 'number' && Number.isInteger(own) && own >= 0
      ? { seconds: own, from: 'container', problem: null }
      : { seconds: DEFAULT_STOP_TIMEOUT_S, from: 'default', problem: null };
  const labels = info.Config.Labels ?? {};
  if (!Object.hasOwn(labels, LABEL.stopTimeout)) return fallback;
  const text = labels[LABEL.stopTimeout] ?? '';
  const seconds = /^[0-9]{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (Number.isInteger(seconds) && seconds <= MAX_STOP_TIMEOUT_S)
    return { seconds, from: 'label', problem: null };
  return {
    ...fallback,
    problem: `the ${LABEL.stopTimeout} label ${JSON.stringify(text.slice(0, 40))} is not a whole number of seconds from 0 to ${MAX_STOP_TIMEOUT_S}; it was ignored`,
  };
}

/** "1 s (ghost.stop-timeout)", for plans, logs and outcomes. */
export function stopWaitText(wait: StopWait): string {
  const source =
    wait.from === 'label'
      ? LABEL.stopTimeout
      : wait.from === 'container'
        ? "the container's StopTimeout"
        : "Docker's default";
  return `${wait.seconds} s (${source})`;
}
