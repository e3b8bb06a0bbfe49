// A throwaway redis-server of a test's own, for restart and crash tests: own loopback port, own
// mkdtemp dir, AOF on by default. restart() reuses port and dir, so AOF data survives stop() and
// kill9() alike.
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './docker.js';
import { spawnServer } from './spawn-server.js';

export interface ThrowawayRedisOptions {
  /** `--appendonly yes --appendfsync everysec`; default true. */
  aof?: boolean;
  /** Default `noeviction`; set another to test that Helm refuses it. */
  maxmemoryPolicy?: string;
  /** Default a free loopback port. */
  port?: number;
  /** Appended to the command line, e.g. `['--maxmemory', '10mb']`. */
  extraArgs?: string[];
  /** Default 10 s. */
  startTimeoutMs?: number;
}

export interface ThrowawayRedis {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  dir: string;
  /** PID of the running server, undefined while stopped. */
  pid(): number | undefined;
  /** Graceful stop (SIGTERM: Redis flushes the AOF and exits). No-op when stopped. */
  stop(): Promise<void>;
  /** SIGKILL, as a crash: no shutdown work. No-op when stopped. */
  kill9(): Promise<void>;
  /** Stops it if running, then starts it again on the same port and dir. */
  restart(): Promise<void>;
  /** Kills it and deletes its dir. Call in afterAll. */
  destroy(): Promise<void>;
}

const REDIS_SERVER = process.env['HELM_TEST_REDIS_SERVER'] ?? 'redis-server';
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function buildArgs(port: number, dir: string, options: ThrowawayRedisOptions): string[] {
  const aof = options.aof ?? true;
  return [
    '--bind',
    '127.0.0.1',
    '--port',
    String(port),
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--save',
    '',
    '--logfile',
    '',
    '--appendonly',
    aof ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--maxmemory-policy',
    options.maxmemoryPolicy ?? 'noeviction',
    ...(options.extraArgs ?? []),
  ];
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const timer = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  return Promise.race([once(child, 'exit').then(() => true), timer]);
}

/** Spawns redis-server and resolves once it answers PING; rejects with its output if it exits. */
async function launch(
  port: number,
  dir: string,
  options: ThrowawayRedisOptions,
): Promise<{ child: ChildProcess; output: () => string }> {
  const { child, output, spawnError, exited } = spawnServer(REDIS_SERVER, buildArgs(port, dir, options));
  const deadline = Date.now() + (options.startTimeoutMs ?? 10_000);
  while (Date.now() < deadline) {
    const error = spawnError();
    if (error) throw new Error(`could not run ${REDIS_SERVER}: ${error.message}`);
    if (exited()) {
      throw new Error(
        `redis-server on 127.0.0.1:${port} exited (${child.exitCode ?? child.signalCode}):\n${output()}`,
      );
    }
    if (await pingOnce(port)) return { child, output };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server on 127.0.0.1:${port} did not answer PING in time:\n${output()}`);
}

/** Starts a redis-server of the test's own. Always `destroy()` it in afterAll. */
export async function startThrowawayRedis(options: ThrowawayRedisOptions = {}): Promise<ThrowawayRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'helm-test-redis-'));
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  try {
    child = (await launch(port, dir, options)).child;
  } catch (error) {
    // The free port may have been taken between freePort() and the bind: one more try.
    if (options.port !== undefined) throw error;
    port = await freePort();
    child = (await launch(port, dir, options)).child;
  }

  const signalAndWait = async (signal: NodeJS.Signals) => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) {
      child = undefined;
      return;
    }
    current.kill(signal);
    if (!(await waitForExit(current, 10_000))) {
      current.kill('SIGKILL');
      await waitForExit(current, 5_000);
    }
    child = undefined;
  };

  const handle: ThrowawayRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    pid: () => child?.pid,
    stop: () => signalAndWait('SIGTERM'),
    kill9: () => signalAndWait('SIGKILL'),
    async restart() {
      await signalAndWait('SIGTERM');
      child = (await launch(port, dir, options)).child;
    },
    async destroy() {
      await signalAndWait('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
