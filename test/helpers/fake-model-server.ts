// A scripted HTTP server on 127.0.0.1:0 for the model fakes (fake-ollama.ts, fake-anthropic.ts): the
// real clients talk to it over loopback. It records every request it receives (method, path,
// headers, raw body) so a test can grep them, e.g. for a canary secret that must never leave Helm.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body as received, byte for byte (decoded as UTF-8). */
  raw: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  body: unknown;
}

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON. */
  body: unknown;
  /** Wait this long before answering (the client may give up first). */
  delayMs?: number;
}

/** What the scripted route answers: a queue consumed in order, or a function of the request. */
export type Script = Reply[] | ((request: RecordedRequest, index: number) => Reply | Promise<Reply>);

export type Route = (request: RecordedRequest) => Reply | undefined;

export class FakeModelServer {
  readonly requests: RecordedRequest[] = [];
  /** Problems the fake itself hit (script exhausted, script threw): a test should expect none. */
  readonly failures: string[] = [];
  private server: Server | undefined;
  private script: Script = [];
  private scriptedCount = 0;

  constructor(
    private readonly name: string,
    /** Requests the scripted route answers (e.g. POST /api/chat). */
    private readonly scripted: (request: RecordedRequest) => boolean,
    /** Fixed routes answered outside the script (e.g. GET /api/tags). */
    private readonly fixed: Route,
    private readonly failureReply: (status: number, message: string) => Reply,
  ) {}

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) throw new Error(`${this.name} is not started`);
    return `http://127.0.0.1:${address.port}`;
  }

  /** The scripted requests' bodies (what the model was asked). */
  get calls(): RecordedRequest[] {
    return this.requests.filter(this.scripted);
  }

  /** Every byte every request carried, headers included, for grepping. */
  everythingReceived(): string {
    return this.requests
      .map((r) => `${r.method} ${r.path}\n${JSON.stringify(r.headers)}\n${r.raw}`)
      .join('\n');
  }

  /** Replace the script (a queue of replies or a function of the request). */
  answer(script: Script): this {
    this.script = script;
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', resolve);
    });
    return this;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: { ...req.headers },
      raw,
      body: parseJson(raw),
    };
    this.requests.push(recorded);
    let reply: Reply;
    try {
      reply = this.scripted(recorded) ? await this.next(recorded) : (this.fixed(recorded) ?? notFound(this));
    } catch (error) {
      const message = `${this.name}: ${(error as Error).message}`;
      this.failures.push(message);
      reply = this.failureReply(500, message);
    }
    if (reply.delayMs) await sleepUnlessClosed(reply.delayMs, res);
    if (res.destroyed) return;
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.body));
  }

  private async next(request: RecordedRequest): Promise<Reply> {
    const index = this.scriptedCount++;
    if (typeof this.script === 'function') return this.script(request, index);
    const reply = this.script.shift();
    if (!reply)
      throw new Error(`no scripted reply left for call ${index + 1} (${request.method} ${request.path})`);
    return reply;
  }
}

function notFound(fake: FakeModelServer): Reply {
  return { status: 404, body: { error: `not a route of this fake (${fake.constructor.name})` } };
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** Waits, but stops early when the client has gone (aborted): nothing is written to a dead socket. */
function sleepUnlessClosed(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    res.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
