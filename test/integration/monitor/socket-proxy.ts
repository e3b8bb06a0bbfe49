// A unix-socket proxy in front of the Docker engine, so a test can break the monitor's events stream
// (and refuse its reconnects for a while) without touching the engine other tests use.
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface SocketProxy {
  /** `unix:///…` for DOCKER_HOST-style options. */
  dockerHost: string;
  /** Destroys every open connection (the events stream among them). */
  breakAll(): void;
  /** While refusing, new connections are closed at once (the engine looks unreachable). */
  refuse(on: boolean): void;
  close(): Promise<void>;
}

export async function startSocketProxy(target = dockerSocket()): Promise<SocketProxy> {
  const socketPath = path.join(os.tmpdir(), `helm-docker-proxy-${randomBytes(4).toString('hex')}.sock`);
  const open = new Set<net.Socket>();
  let refusing = false;
  const server = net.createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = net.connect(target);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, resolve);
  });
  return {
    dockerHost: `unix://${socketPath}`,
    breakAll() {
      for (const s of open) s.destroy();
      open.clear();
    },
    refuse(on) {
      refusing = on;
    },
    async close() {
      for (const s of open) s.destroy();
      // server.close unlinks the socket file.
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function dockerSocket(): string {
  const host = process.env['DOCKER_HOST'];
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  return '/var/run/docker.sock';
}
