import { Job, Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import { QUEUE } from '../bus/queue-names.js';
import { makeCommandConnection } from '../bus/redis-connection.js';
import { makeParkedStore, type ParkedRecord } from '../gate/parked-store.js';

/**
 * `helm pending` and `helm cancel`: the owner's view of requests parked for Warden, and the owner's
 * way to end one. Cancelling is one of the ends of a parked request: the same atomic step as a
 * decision, so a cancel and a decision racing each other have one winner.
 */
export async function listPending(config: Readonly<Config>): Promise<ParkedRecord[]> {
  const redis = makeCommandConnection(config.redisUrl, 'helm-cli');
  try {
    return await makeParkedStore(redis, config.queuePrefix).listParked();
  } finally {
    redis.disconnect();
  }
}

export async function cancelPending(
  config: Readonly<Config>,
  approvalId: string,
): Promise<'cancelled' | 'not_parked'> {
  const redis = makeCommandConnection(config.redisUrl, 'helm-cli');
  const actions = new Queue(QUEUE.actions, { connection: redis, prefix: config.queuePrefix });
  try {
    const parked = makeParkedStore(redis, config.queuePrefix);
    const record = await parked.get(approvalId);
    if (!record || !(await parked.end(approvalId, 'cancelled', new Date()))) return 'not_parked';
    // Wake the request so that it ends now (failed, cancelled) rather than at its deadline.
    await (await Job.fromId(actions, record.job_id))?.promote().catch(() => undefined);
    return 'cancelled';
  } finally {
    await actions.close();
    redis.disconnect();
  }
}

export function describeParked(r: ParkedRecord): string {
  const req = r.approval_request;
  return [
    `${r.approval_id}  ${req.plan.action} ${req.plan.service} (${req.plan.environment})  job ${r.job_id}  expires ${req.expires_at}`,
    `  plan_hash ${r.plan_hash}`,
    ...req.steps.map((s) => `  - ${s}`),
  ].join('\n');
}
