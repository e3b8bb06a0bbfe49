// Record-and-replay for the model fakes: a cassette maps the hash of a normalised request (method,
// path, body as canonical JSON) to the reply the model gave, so an incident set replays the same
// conversation every run. A request the cassette does not hold fails loudly: the fake answers 500,
// and the miss is listed in `misses` (assertNoMisses() throws with the request's hash and path).
//
// Recording: wrap another script (a scripted fake, or by hand a proxy to a live endpoint for the
// optional live run, never in CI) with `recording(inner)`, then `save()`.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import canonicalize from 'canonicalize';
import type { RecordedRequest, Reply, Script } from './fake-model-server.js';

interface Entry {
  request: { method: string; path: string; body: unknown };
  reply: Reply;
}

export interface CassetteOptions {
  /**
   * Parts of a request that change from run to run (per-call fence nonces, timestamps): each match in
   * the body's JSON text is replaced by `<volatile>` before hashing.
   */
  volatile?: ReadonlyArray<RegExp>;
}

export class Cassette {
  readonly misses: Array<{ hash: string; path: string }> = [];
  private readonly entries: Record<string, Entry>;

  constructor(
    private readonly file: string,
    private readonly opts: CassetteOptions = {},
  ) {
    this.entries = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { entries: Record<string, Entry> }).entries
      : {};
  }

  get size(): number {
    return Object.keys(this.entries).length;
  }

  /** The hash a request is filed under. */
  key(request: Pick<RecordedRequest, 'method' | 'path' | 'body'>): string {
    let body = canonicalize(request.body ?? null) ?? 'null';
    for (const pattern of this.opts.volatile ?? [])
      body = body.replace(new RegExp(pattern, 'g'), '<volatile>');
    return createHash('sha256').update(`${request.method} ${request.path}\n${body}`).digest('hex');
  }

  /** A fake's script that answers only from the cassette. */
  replay(): Script {
    return (request) => {
      const hash = this.key(request);
      const entry = this.entries[hash];
      if (entry) return entry.reply;
      this.misses.push({ hash, path: request.path });
      throw new Error(
        `cassette miss: no recorded reply for ${request.method} ${request.path} (request hash ${hash})`,
      );
    };
  }

  /** A script that asks `inner` and files every reply under its request's hash. */
  recording(inner: Script): Script {
    return async (request, index) => {
      const reply = typeof inner === 'function' ? await inner(request, index) : inner.shift();
      if (!reply) throw new Error(`recording: the inner script has no reply for call ${index + 1}`);
      const { delayMs: _delay, ...kept } = reply;
      this.entries[this.key(request)] = {
        request: { method: request.method, path: request.path, body: request.body },
        reply: kept,
      };
      return reply;
    };
  }

  save(): void {
    writeFileSync(this.file, `${JSON.stringify({ version: 1, entries: this.entries }, null, 2)}\n`);
  }

  assertNoMisses(): void {
    if (this.misses.length > 0)
      throw new Error(
        `cassette ${this.file} missed: ${this.misses.map((m) => `${m.path} ${m.hash}`).join(', ')}`,
      );
  }
}
