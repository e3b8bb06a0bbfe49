import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';

/**
 * Bull Board under `basePath`, read-only: a job here is a request with a promise attached (an
 * approval waiting, an exec job signed for one run), so no retry, promote, clean, pause or add. Each
 * queue's adapter is read-only (the board shows no such button and its API answers 405), and, should
 * a later Bull Board add a route that forgets it, anything but GET and HEAD under `basePath` is
 * refused here first. The bearer token (bearer-token.ts) guards it like every route.
 */
export async function mountBullBoard(
  app: FastifyInstance,
  queues: readonly Queue[],
  basePath: string,
): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true, allowRetries: false })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Helm (read-only)' } },
  });
  // On the app, not the board's scope: a method no board route has is refused too, not left to a 404.
  app.addHook('onRequest', async (request, reply) => {
    const underBoard = request.url === basePath || request.url.startsWith(`${basePath}/`);
    if (!underBoard || request.method === 'GET' || request.method === 'HEAD') return;
    await reply.code(405).header('allow', 'GET, HEAD').send({ error: 'Bull Board is read-only here' });
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: basePath });
}
