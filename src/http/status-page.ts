import type { FastifyInstance } from 'fastify';
import { STATUS_PAGE_CSS, STATUS_PAGE_HTML, STATUS_PAGE_JS } from './status-page-assets.js';
import type { StatusPageData } from './status-page-data.js';

/**
 * The status page at `/` and the JSON behind it at `/status.json` (read-only: GET only). Thin: the
 * wiring reads, status-page-data.ts assembles. Behind the server's token rule like every route.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'";

export function mountStatusPage(app: FastifyInstance, read: () => Promise<StatusPageData>): void {
  const file = (path: string, type: string, body: string) =>
    app.get(path, async (_request, reply) =>
      reply
        .header('content-type', type)
        .header('content-security-policy', CSP)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-store')
        .send(body),
    );
  file('/', 'text/html; charset=utf-8', STATUS_PAGE_HTML);
  file('/status-page.js', 'text/javascript; charset=utf-8', STATUS_PAGE_JS);
  file('/status-page.css', 'text/css; charset=utf-8', STATUS_PAGE_CSS);
  app.get('/status.json', async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(await read()),
  );
}
