// A small HTTP server on a free loopback port that answers every request with its own name (an
// upstream for proxy tests that need no container), and a bounded request loop through the proxy.
import http from 'node:http';
import { freePort } from './docker.js';

export interface NamedUpstream {
  name: string;
  port: number;
  close(): Promise<void>;
}

export async function startNamedUpstream(name: string): Promise<NamedUpstream> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(name);
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    name,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface LoopResult {
  /** Answers by body (2xx only). */
  bodies: Map<string, number>;
  /** Non-2xx answers and requests that got no answer: what a user would see as an error. */
  failures: string[];
  /**
   * GETs sent again, on a new connection, because a kept-alive connection was closed before any byte
   * of the answer (the proxy's old server closing its idle connections as a config change lands).
   * Every HTTP client that keeps connections alive does this (RFC 9112 §9.3.1; Node's docs:
   * `req.reusedSocket`), so the user never sees it; reported so a test can say how often it happened.
   */
  resentOnClosedKeepAlive: number;
}

interface OneAnswer {
  status?: number;
  body?: string;
  error?: Error;
  reused: boolean;
}

function getOnce(agent: http.Agent | false, url: URL, host: string | undefined): Promise<OneAnswer> {
  return new Promise((resolve) => {
    const headers = host ? { host } : {};
    const req = http.get(url, { agent, headers, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode, body, reused: req.reusedSocket }));
      res.on('error', (error) => resolve({ error, reused: false }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', (error) => resolve({ error, reused: req.reusedSocket }));
  });
}

/** GETs `url` `count` times, `concurrency` at once, on kept-alive connections. */
export function requestLoop(
  url: string,
  count: number,
  concurrency = 4,
  options: { host?: string } = {},
): Promise<LoopResult> {
  let next = 0;
  return loop(url, concurrency, options, async () => {
    next += 1;
    return next <= count;
  });
}

/**
 * A bounded load generator: GETs `url` at about `perSecond` requests a second, `concurrency` at
 * once, until `until` settles (and at most `maxMs`, so it always stops by itself).
 */
export function requestLoopUntil(
  url: string,
  until: Promise<unknown>,
  opts: { perSecond?: number; concurrency?: number; maxMs?: number; host?: string } = {},
): Promise<LoopResult> {
  let stop = false;
  void until.then(
    () => {
      stop = true;
    },
    () => {
      stop = true;
    },
  );
  const concurrency = opts.concurrency ?? 4;
  const gapMs = (1000 * concurrency) / (opts.perSecond ?? 200);
  const deadline = Date.now() + (opts.maxMs ?? 120_000);
  return loop(url, concurrency, opts, async () => {
    await new Promise((resolve) => setTimeout(resolve, gapMs));
    return !stop && Date.now() < deadline;
  });
}

async function loop(
  url: string,
  concurrency: number,
  options: { host?: string },
  more: () => Promise<boolean>,
): Promise<LoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const result: LoopResult = { bodies: new Map(), failures: [], resentOnClosedKeepAlive: 0 };
  const target = new URL(url);
  const worker = async () => {
    while (await more()) {
      let answer = await getOnce(agent, target, options.host);
      if (answer.error && answer.reused && (answer.error as NodeJS.ErrnoException).code === 'ECONNRESET') {
        result.resentOnClosedKeepAlive += 1;
        // On a connection of its own: the pool's other idle connections may be closing too.
        answer = await getOnce(false, target, options.host);
      }
      if (answer.error)
        result.failures.push(
          `${answer.error.message} (${(answer.error as NodeJS.ErrnoException).code}, reused ${answer.reused})`,
        );
      else if (answer.status === undefined || answer.status < 200 || answer.status > 299)
        result.failures.push(`HTTP ${answer.status}: ${(answer.body ?? '').slice(0, 200)}`);
      else result.bodies.set(answer.body ?? '', (result.bodies.get(answer.body ?? '') ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return result;
}
