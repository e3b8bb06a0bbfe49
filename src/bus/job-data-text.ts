import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';

/**
 * The JSON text of a job's data exactly as it rests in Redis (the `data` field of BullMQ's job hash),
 * or null when the job is gone. BullMQ hands workers `job.data` after its own JSON.parse, which keeps
 * the last of two equal keys and so hides a text that another agent may read differently; whoever
 * must judge the text itself (a signed decision) reads it here.
 */
export type JobDataText = (job: Job) => Promise<string | null>;

export function makeJobDataText(redis: Redis): JobDataText {
  return (job) => redis.hget(`${job.queueQualifiedName}:${job.id}`, 'data');
}
