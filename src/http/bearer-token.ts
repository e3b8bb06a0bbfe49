import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * With a token set, every request (every path, /healthz included) carries `Authorization: Bearer
 * <token>`, else 401. Compared on SHA-256 digests in constant time, so neither the token's length nor
 * its prefix leaks through timing.
 */
export function requireBearerToken(app: FastifyInstance, token: string): void {
  const expected = digest(token);
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization ?? '';
    const match = /^Bearer (\S+)$/.exec(header);
    if (match && timingSafeEqual(digest(match[1]!), expected)) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="helm"')
      .send({ error: 'unauthorized: send Authorization: Bearer <HELM_HTTP_TOKEN>' });
  });
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
