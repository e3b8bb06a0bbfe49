// The instance-port probe on real loopback sockets: a port something listens on is never chosen.
import net from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { allocateInstancePort, portIsFree } from '../../../src/proxy/instance-port.js';
import { freePort } from '../../helpers/docker.js';

describe('instance port probe', () => {
  const servers: net.Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });
  const listen = async (host: string): Promise<number> => {
    const port = await freePort();
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(port, host, () => resolve()));
    servers.push(server);
    return port;
  };

  it('a port held on 127.0.0.1 or on every address is in use; a free one is free', async () => {
    expect(await portIsFree(await listen('127.0.0.1'))).toBe(false);
    expect(await portIsFree(await listen('0.0.0.0'))).toBe(false);
    expect(await portIsFree(await freePort())).toBe(true);
  });

  it('never takes a port in use: a range of only that port has none to give', async () => {
    const busy = await listen('127.0.0.1');
    await expect(allocateInstancePort('web', { first: busy, last: busy }, new Set())).rejects.toThrow(
      `no free instance port for web in ${busy}-${busy}`,
    );
    const free = await freePort();
    expect(await allocateInstancePort('web', { first: free, last: free }, new Set())).toBe(free);
  });
});
