import net from 'node:net';

/**
 * The host port a new instance of a routed service listens on: from the configured range
 * (HELM_PROXY_PORT_RANGE), never one Docker says an instance holds, never one something on this
 * host listens on. The choice is pure (`choosePort`); the probe is a bind and a connect on 127.0.0.1.
 */

export interface PortRange {
  first: number;
  last: number;
}

/** `20000-20999` → the range; a plain-words error otherwise. */
export function parsePortRange(text: string): PortRange {
  const match = /^(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  const first = match ? Number(match[1]) : Number.NaN;
  const last = match ? Number(match[2]) : Number.NaN;
  if (!match || first < 1024 || last > 65535 || first > last) {
    throw new Error(`"${text}" is not a port range such as 20000-20999 (ports 1024-65535, first <= last)`);
  }
  return { first, last };
}

/**
 * The ports to try, in order: from `start` (wrapping round), skipping those `taken`. Starting at a
 * service-dependent offset keeps two services deploying at once from trying the same ports first.
 */
export function candidatePorts(range: PortRange, taken: ReadonlySet<number>, start: number): number[] {
  const size = range.last - range.first + 1;
  const offset = ((start % size) + size) % size;
  const ports: number[] = [];
  for (let i = 0; i < size; i += 1) {
    const port = range.first + ((offset + i) % size);
    if (!taken.has(port)) ports.push(port);
  }
  return ports;
}

/** A small stable number from the service name, for `candidatePorts`' start. */
export function startFor(service: string): number {
  let hash = 0;
  for (const ch of service) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return hash;
}

/** Something answers a connect on 127.0.0.1:port. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(500, () => done(true)); // no refusal in time: treat as taken
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** A listen on 127.0.0.1:port succeeds (no one holds it, on any address). */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function portIsFree(port: number): Promise<boolean> {
  return (await bindable(port)) && !(await answers(port));
}

/**
 * The first candidate port that is free on this host. Throws in plain words when the range has none.
 */
export async function allocateInstancePort(
  service: string,
  range: PortRange,
  taken: ReadonlySet<number>,
  isFree: (port: number) => Promise<boolean> = portIsFree,
): Promise<number> {
  for (const port of candidatePorts(range, taken, startFor(service))) {
    if (await isFree(port)) return port;
  }
  throw new Error(
    `no free instance port for ${service} in ${range.first}-${range.last} (HELM_PROXY_PORT_RANGE): every port is taken or in use`,
  );
}
