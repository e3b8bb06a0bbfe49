import { connect } from 'node:net';

/** One look at an HTTP or TCP endpoint, bounded in time. Never throws. */
export interface ProbeResult {
  ok: boolean;
  detail: string;
  ms: number;
}

export async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.body?.cancel();
    const ok = res.status >= 200 && res.status < 400;
    return { ok, detail: `HTTP ${res.status}`, ms: elapsed(started) };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message);
    return { ok: false, detail: why, ms: elapsed(started) };
  }
}

export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean, detail: string) => {
      socket.destroy();
      resolve({ ok, detail, ms: elapsed(started) });
    };
    socket.setTimeout(timeoutMs, () => done(false, `no connection within ${timeoutMs} ms`));
    socket.once('connect', () => done(true, 'connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(false, err.code ?? err.message));
  });
}

function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
