import { DelayedError, type Job, WaitingChildrenError } from 'bullmq';

/**
 * A job of a BullMQ queue as the bus delivers it. The request path names it through bus/ so that only
 * bus/ imports BullMQ; a job port in Helm's own type waits for the gate, which takes the same job.
 */
export type BusJob = Job;

/** What a request that left the worker waits for: a decision (parked) or the executor's result. */
export function waitsFor(err: unknown): 'warden' | 'executor' {
  return err instanceof DelayedError ? 'warden' : 'executor';
}

/** BullMQ's errors for a job that leaves the worker on purpose (parked, or waiting for a child job). */
export function isBullmqControlFlow(err: unknown): boolean {
  return err instanceof DelayedError || err instanceof WaitingChildrenError;
}
