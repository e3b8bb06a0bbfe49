// The request half of scripts/compose-smoke.sh: sends one health_check through the bus, as another
// agent would (plain BullMQ, none of Helm's code), and waits for Helm's result.
//
//   REDIS_URL=redis://127.0.0.1:PORT HELM_QUEUE_PREFIX=smoke-x npx tsx scripts/smoke-request.ts
//
// Env: REDIS_URL (required), HELM_QUEUE_PREFIX (BullMQ's default `bull` when unset),
// SMOKE_TARGET (smoke-web), SMOKE_TIMEOUT_MS (120000). Exit 0 only for status "executed".
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';

const QUEUE = 'helm.actions';

async function main(): Promise<number> {
  const url = process.env['REDIS_URL'];
  if (!url) throw new Error('REDIS_URL is not set');
  const prefix = process.env['HELM_QUEUE_PREFIX'] || 'bull';
  const target = process.env['SMOKE_TARGET'] || 'smoke-web';
  const timeoutMs = Number(process.env['SMOKE_TIMEOUT_MS'] || 120_000);

  // QueueEvents blocks on its connection (XREAD BLOCK): it gets one of its own.
  const queueConnection = new Redis(url, { maxRetriesPerRequest: null });
  const eventsConnection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE, { connection: queueConnection, prefix });
  const events = new QueueEvents(QUEUE, { connection: eventsConnection, prefix });
  try {
    // Listen before adding, or a fast Helm could finish the job before we subscribe.
    await events.waitUntilReady();
    const data = { action: 'health_check', target, environment: 'production', reason: 'compose smoke' };
    const job = await queue.add('health_check', data);
    console.log(`smoke: queued ${QUEUE} job ${job.id} (prefix ${prefix}): ${JSON.stringify(data)}`);
    const started = Date.now();
    let result: unknown;
    try {
      result = await job.waitUntilFinished(events, timeoutMs);
    } catch (error) {
      const state = await job.getState().catch(() => 'unknown');
      console.error(
        `smoke: job ${job.id} did not complete (state ${state}) after ${Date.now() - started} ms: ${(error as Error).message}`,
      );
      return 1;
    }
    console.log(`smoke: result after ${Date.now() - started} ms: ${JSON.stringify(result)}`);
    const status = (result as { status?: unknown } | null)?.status;
    if (status !== 'executed') {
      console.error(`smoke: expected status "executed", got ${JSON.stringify(status)}`);
      return 1;
    }
    console.log('smoke: health_check executed');
    return 0;
  } finally {
    await Promise.allSettled([events.close(), queue.close()]);
    queueConnection.disconnect();
    eventsConnection.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`smoke: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
