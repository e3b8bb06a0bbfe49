import { Job, Queue } from 'bullmq';
import type { Config } from '../config/config.js';
import { QUEUE } from '../bus/queue-names.js';
import { makeParkedStore, type ParkedRecord } from '../gate/parked-store.js';
import { withCommandRedis } from './cli-redis.js';
import { CliError, jsonDocument, type VerbOutput } from './output.js';

/**
 * `helm pending` and `helm cancel`: the owner's view of requests parked for Warden, and the owner's
 * way to end one. Cancelling is one of the ends of a parked request: the same atomic step as a
 * decision, so a cancel and a decision racing each other have one winner.
 */
export async function listPending(config: Readonly<Config>): Promise<ParkedRecord[]> {
  return withCommandRedis(config.redisUrl, 'helm-cli', (redis) =>
    makeParkedStore(redis, config.queuePrefix).listParked(),
  );
}

export async function cancelPending(
  config: Readonly<Config>,
  approvalId: string,
): Promise<'cancelled' | 'not_parked'> {
  return withCommandRedis(config.redisUrl, 'helm-cli', async (redis) => {
    const parked = makeParkedStore(redis, config.queuePrefix);
    const record = await parked.get(approvalId);
    if (!record || !(await parked.end(approvalId, 'cancelled', new Date()))) return 'not_parked';
    const actions = new Queue(QUEUE.actions, { connection: redis, prefix: config.queuePrefix });
    try {
      // Wake the request so that it ends now (failed, cancelled) rather than at its deadline.
      await (await Job.fromId(actions, record.job_id))?.promote().catch(() => undefined);
      return 'cancelled';
    } finally {
      await actions.close();
    }
  });
}

export function describeParked(r: ParkedRecord): string {
  const req = r.approval_request;
  return [
    `${r.approval_id}  ${req.plan.action} ${req.plan.service} (${req.plan.environment})  job ${r.job_id}  expires ${req.expires_at}`,
    `  plan_hash ${r.plan_hash}`,
    ...req.steps.map((s) => `  - ${s}`),
  ].join('\n');
}

/** `helm pending`: each parked request with its plan, or `{ pending: [...] }` with --json. */
export function describePending(pending: ParkedRecord[], json: boolean): VerbOutput {
  if (json) return { stdout: jsonDocument({ pending }), stderr: '', exitCode: 0 };
  const text =
    pending.length === 0
      ? 'no request is waiting for Warden\n'
      : pending.map((r) => `${describeParked(r)}\n`).join('');
  return { stdout: text, stderr: '', exitCode: 0 };
}

/** `helm cancel`: a request not parked (any more) is a failure, `not_parked`. */
export function describeCancel(
  approvalId: string,
  outcome: 'cancelled' | 'not_parked',
  json: boolean,
): VerbOutput {
  if (outcome === 'not_parked')
    throw new CliError('not_parked', `${approvalId} is not parked (decided, expired, cancelled or unknown)`);
  const stdout = json
    ? jsonDocument({ approval_id: approvalId, cancelled: true })
    : `cancelled ${approvalId}\n`;
  return { stdout, stderr: '', exitCode: 0 };
}
